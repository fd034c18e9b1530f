import { describe, expect, it } from 'vitest';
import { createChallenge, encodeAvPairs, NtlmFlag, parseAuthenticate, verifyAuthenticate } from '../ntlm.js';
import { parseRawMessage } from '../sip/headers.js';
import { parseAuthHeader } from './params.js';
import { AuthenticationError, NtlmAuthenticator } from './ntlm-auth.js';
import { DigestAuthenticator } from './digest.js';
import { createHash } from 'node:crypto';

const REGISTER = 'REGISTER sip:example.com SIP/2.0\r\nFrom: <sip:me@example.com>;tag=a\r\nTo: <sip:me@example.com>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n';
const FLAGS = NtlmFlag.UNICODE | NtlmFlag.SIGN | NtlmFlag.DATAGRAM | NtlmFlag.NTLM | NtlmFlag.EXTENDED_SESSIONSECURITY | NtlmFlag.TARGET_INFO | NtlmFlag.NEGOTIATE_128 | NtlmFlag.KEY_EXCH;

function challenge(serverChallenge = Buffer.alloc(8, 7)) {
  return createChallenge({ flags: FLAGS, serverChallenge, targetName: '', targetInfo: encodeAvPairs([{ id: 2, value: Buffer.from('EXAMPLE', 'utf16le') }]) }).toString('base64');
}

describe('NtlmAuthenticator ([MS-SIPAE] 3.2.2 connection-less handshake)', () => {
  it('sends empty gssapi-data, then a signed AUTHENTICATE, then signed messages', () => {
    const auth = new NtlmAuthenticator({ login: 'EXAMPLE\\me', password: 'pw' });
    expect(auth.authorization(parseRawMessage(REGISTER))).toBeUndefined();
    auth.challenge(['Kerberos realm="SIP Communications Service"', 'NTLM realm="SIP Communications Service", targetname="ocs.example.com", version=4']);
    expect(auth.authorization(parseRawMessage(REGISTER))).toBe('NTLM qop="auth", realm="SIP Communications Service", targetname="ocs.example.com", gssapi-data="", version=4');
    auth.challenge([`NTLM opaque="ABCD", gssapi-data="${challenge()}", targetname="ocs.example.com", realm="SIP Communications Service"`]);
    const third = parseAuthHeader(auth.authorization(parseRawMessage(REGISTER))!);
    expect(third.params.get('opaque')).toBe('ABCD');
    expect(third.params.get('cnum')).toBe('1');
    expect(third.params.get('response')).toMatch(/^01000000[0-9a-f]{16}64000000$/);
    const authenticate = parseAuthenticate(Buffer.from(third.params.get('gssapi-data')!, 'base64'));
    expect(authenticate.user).toBe('me');
    expect(authenticate.domain).toBe('EXAMPLE');
    expect(verifyAuthenticate(authenticate, Buffer.alloc(8, 7), 'pw')).toBeDefined();
    auth.registered();
    const next = parseAuthHeader(auth.authorization(parseRawMessage(REGISTER.replace('REGISTER sip', 'SUBSCRIBE sip').replace('2 REGISTER', '3 SUBSCRIBE')))!);
    expect(next.params.has('gssapi-data')).toBe(false);
    expect(next.params.get('cnum')).toBe('2');
  });

  it('does not sign the AUTHENTICATE REGISTER for protocol version 3', () => {
    const auth = new NtlmAuthenticator({ login: 'me', password: 'pw' });
    auth.challenge(['NTLM realm="r", targetname="t", version=3']);
    auth.challenge([`NTLM opaque="1", gssapi-data="${challenge()}", targetname="t", realm="r"`]);
    expect(parseAuthHeader(auth.authorization(parseRawMessage(REGISTER))!).params.has('response')).toBe(false);
  });

  it('a 401 after the AUTHENTICATE is a failed authentication', () => {
    const auth = new NtlmAuthenticator({ login: 'me', password: 'pw' });
    auth.challenge(['NTLM realm="r", targetname="t", version=4']);
    auth.challenge([`NTLM opaque="1", gssapi-data="${challenge()}", targetname="t", realm="r"`]);
    expect(() => auth.challenge(['NTLM realm="r", targetname="t", version=4'])).toThrow(expect.objectContaining({ kind: 'failed' }));
  });

  it.each([
    ['no NTLM offered', ['Kerberos realm="r"'], 'impossible'],
    ['a malformed NTLM header', ['NTLM realm="unterminated'], 'protocol'],
    ['gssapi-data that is not base64', ['NTLM realm="r", targetname="t", version=4', 'NTLM opaque="1", gssapi-data="%%%%", realm="r"'], 'protocol'],
    ['gssapi-data that is not a CHALLENGE', ['NTLM realm="r", targetname="t", version=4', `NTLM opaque="1", gssapi-data="${Buffer.from('hello world, not NTLM').toString('base64')}", realm="r"`], 'protocol'],
  ])('refuses %s', (_name, headers, kind) => {
    const auth = new NtlmAuthenticator({ login: 'me', password: 'pw' });
    let error: unknown;
    try {
      for (const h of headers) auth.challenge([h]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).kind).toBe(kind);
  });

  it('ignores unsigned messages after sign-in but accepts 401s and provisional responses', () => {
    const auth = new NtlmAuthenticator({ login: 'me', password: 'pw' });
    auth.challenge(['NTLM realm="r", targetname="t", version=4']);
    auth.challenge([`NTLM opaque="1", gssapi-data="${challenge()}", targetname="t", realm="r"`]);
    auth.registered();
    const response = (status: string) => parseRawMessage(`SIP/2.0 ${status}\r\nCall-ID: c\r\nCSeq: 3 SUBSCRIBE\r\nContent-Length: 0\r\n\r\n`);
    expect(auth.verify(response('200 OK'))).toBe('ignore');
    expect(auth.verify(response('401 Unauthorized'))).toBe('accept');
    expect(auth.verify(response('100 Trying'))).toBe('accept');
    expect(auth.verify(parseRawMessage('NOTIFY sip:me SIP/2.0\r\nCall-ID: c\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n'))).toBe('ignore');
  });
});

describe('DigestAuthenticator (RFC 2617)', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');

  it('answers qop=auth challenges with the RFC 2617 response', () => {
    const auth = new DigestAuthenticator({ username: 'alice', password: 'secret' });
    auth.challenge(['Digest realm="example.com", nonce="abc", qop="auth", algorithm=MD5']);
    const header = parseAuthHeader(auth.authorization(parseRawMessage(REGISTER))!);
    const p = header.params;
    const ha1 = md5('alice:example.com:secret');
    const ha2 = md5('REGISTER:sip:example.com');
    expect(p.get('response')).toBe(md5(`${ha1}:abc:${p.get('nc')}:${p.get('cnonce')}:auth:${ha2}`));
    expect(p.get('uri')).toBe('sip:example.com');
    expect(p.get('nc')).toBe('00000001');
  });

  it('answers challenges without qop', () => {
    const auth = new DigestAuthenticator({ username: 'alice', password: 'secret' });
    auth.challenge(['Digest realm="r", nonce="n"']);
    const p = parseAuthHeader(auth.authorization(parseRawMessage(REGISTER))!).params;
    expect(p.get('response')).toBe(md5(`${md5('alice:r:secret')}:n:${md5('REGISTER:sip:example.com')}`));
  });

  it('fails on a second challenge unless it is stale', () => {
    const auth = new DigestAuthenticator({ username: 'alice', password: 'secret' });
    auth.challenge(['Digest realm="r", nonce="n1", qop="auth"']);
    auth.authorization(parseRawMessage(REGISTER));
    auth.challenge(['Digest realm="r", nonce="n2", qop="auth", stale=true']);
    auth.authorization(parseRawMessage(REGISTER));
    expect(() => auth.challenge(['Digest realm="r", nonce="n3", qop="auth"'])).toThrow(expect.objectContaining({ kind: 'failed' }));
  });

  it.each([
    ['no nonce', 'Digest realm="r"', 'protocol'],
    ['an unknown algorithm', 'Digest realm="r", nonce="n", algorithm=SHA-512-256', 'impossible'],
    ['auth-int only', 'Digest realm="r", nonce="n", qop="auth-int"', 'impossible'],
  ])('refuses a challenge with %s', (_name, header, kind) => {
    expect(() => new DigestAuthenticator({ username: 'a', password: 'b' }).challenge([header])).toThrow(expect.objectContaining({ kind }));
  });
});
