import { describe, expect, it } from 'vitest';
import { assertHeaderSafe, headerValue, headerValues, methodOf, parseRawMessage, SipSyntaxError, statusCode } from './headers.js';
import { AuthHeaderError, parseAuthHeader, quote } from '../auth/params.js';

describe('parseRawMessage', () => {
  it('unfolds continuation lines and keeps duplicate headers in order', () => {
    const m = parseRawMessage('SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: NTLM realm="a",\r\n  targetname="b"\r\nWWW-Authenticate: Kerberos realm="a"\r\nCSeq: 2 REGISTER\r\ni: abc\r\n\r\n');
    expect(headerValues(m, 'www-authenticate')).toEqual(['NTLM realm="a", targetname="b"', 'Kerberos realm="a"']);
    expect(headerValue(m, 'Call-ID')).toBe('abc');
    expect(statusCode(m)).toBe(401);
    expect(methodOf(m)).toBe('REGISTER');
  });

  it.each([
    ['garbage start line', 'llo\r\n\r\n'],
    ['a header without a colon', 'NOTIFY sip:a SIP/2.0\r\nbroken header\r\n\r\n'],
    ['a continuation before any header', 'NOTIFY sip:a SIP/2.0\r\n folded\r\n\r\n'],
    ['an empty message', ''],
  ])('rejects %s', (_name, text) => {
    expect(() => parseRawMessage(text)).toThrow(SipSyntaxError);
  });

  it('refuses header values with line breaks', () => {
    expect(() => assertHeaderSafe('Bob\r\nX-Injected: 1', 'display name')).toThrow(SipSyntaxError);
    expect(assertHeaderSafe('Bob', 'display name')).toBe('Bob');
  });
});

describe('parseAuthHeader', () => {
  it('reads quoted and token parameters, commas inside quotes, escapes', () => {
    const h = parseAuthHeader('NTLM realm="SIP Communications Service", targetname="a,b", version=4, opaque="x\\"y"');
    expect(h.scheme).toBe('NTLM');
    expect(h.params.get('realm')).toBe('SIP Communications Service');
    expect(h.params.get('targetname')).toBe('a,b');
    expect(h.params.get('version')).toBe('4');
    expect(h.params.get('opaque')).toBe('x"y');
    expect(parseAuthHeader('NTLM').params.size).toBe(0);
    expect(parseAuthHeader(`X a=${quote('q"\\')}`).params.get('a')).toBe('q"\\');
  });

  it.each([
    ['an unterminated quote', 'NTLM realm="abc'],
    ['a parameter without value', 'NTLM realm'],
    ['an empty header', ''],
    ['a duplicate parameter', 'NTLM realm="a", realm="b"'],
    ['garbage', '"quoted" scheme'],
  ])('rejects %s', (_name, value) => {
    expect(() => parseAuthHeader(value)).toThrow(AuthHeaderError);
  });
});
