import { describe, expect, it } from 'vitest';
import { parseAuthenticate, parseChallenge, verifyAuthenticate, NtlmFlag } from './ntlm.js';
import { MessageSigner, messageFields, ntlmMac, signatureString, SignatureError, SIP_SIGNATURE_SEQUENCE } from './signing.js';
import { parseRawMessage } from './sip/headers.js';

/*
 * A sign-in of Office Communicator 2007 R2 to OCS 2007 R2 (user "User",
 * domain "COSMO", password "Pa$$word"), as published with pidgin-sipe's
 * NTLM tests: the challenge, the client's AUTHENTICATE message, and the
 * signatures both sides put on the REGISTER and its 200 OK.
 */
const TYPE2 = Buffer.from(
  '4E544C4D53535000020000000000000038000000F38298E2DD1BAAF4E7E218D1000000000000000096009600380000000502CE0E0000000F02000A0043004F0053004D004F000100180043004F0053004D004F002D004F00430053002D00520032000400160063006F0073006D006F002E006C006F00630061006C000300300063006F0073006D006F002D006F00630073002D00720032002E0063006F0073006D006F002E006C006F00630061006C000500160063006F0073006D006F002E006C006F00630061006C0000000000',
  'hex',
);
const TYPE3 = Buffer.from(
  'TlRMTVNTUAADAAAAGAAYAHIAAADGAMYAigAAAAoACgBIAAAACAAIAFIAAAAYABgAWgAAABAAEABQAQAAVYKYYgUCzg4AAAAPQwBPAFMATQBPAFUAcwBlAHIAQwBPAFMATQBPAC0ATwBDAFMALQBSADIAoeku/k4Hi/fFwASazGFmwtauh1yw/apBjcDIAK527KYG0rn769BHMQEBAAAAAAAAWVGaFye5ygHWrodcsP2qQQAAAAACAAoAQwBPAFMATQBPAAEAGABDAE8AUwBNAE8ALQBPAEMAUwAtAFIAMgAEABYAYwBvAHMAbQBvAC4AbABvAGMAYQBsAAMAMABjAG8AcwBtAG8ALQBvAGMAcwAtAHIAMgAuAGMAbwBzAG0AbwAuAGwAbwBjAGEAbAAFABYAYwBvAHMAbQBvAC4AbABvAGMAYQBsAAAAAAAAAAAAMctznhyoCkmFkeiueXEV5A==',
  'base64',
);

const REQUEST = [
  'REGISTER sip:cosmo.local SIP/2.0',
  'Via: SIP/2.0/TLS 192.168.172.6:12723',
  'Max-Forwards: 70',
  'From: <sip:user@cosmo.local>;tag=3e49177a52;epid=c8ca638a15',
  'To: <sip:user@cosmo.local>',
  'Call-ID: 4037df9284354df39065195bd57a4b14',
  'CSeq: 3 REGISTER',
  'Event: registration',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const RESPONSE = [
  'SIP/2.0 200 OK',
  'ms-keep-alive: UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300',
  'Authentication-Info: NTLM rspauth="01000000E615438A917661BE64000000", srand="9616454F", snum="1", opaque="2BDBAC9D", qop="auth", targetname="cosmo-ocs-r2.cosmo.local", realm="SIP Communications Service"',
  'From: "User"<sip:user@cosmo.local>;tag=3e49177a52;epid=c8ca638a15',
  'To: <sip:user@cosmo.local>;tag=5E61CCD925D17E043D9A74835A88F664',
  'Call-ID: 4037df9284354df39065195bd57a4b14',
  'CSeq: 3 REGISTER',
  'Via: SIP/2.0/TLS 192.168.172.6:12723;ms-received-port=12723;ms-received-cid=2600',
  'Expires: 7200',
  'Server: RTC/3.5',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function captureKeys() {
  const challenge = parseChallenge(TYPE2);
  const keys = verifyAuthenticate(parseAuthenticate(TYPE3), challenge.serverChallenge, 'Pa$$word');
  if (!keys) throw new Error('captured AUTHENTICATE did not verify');
  return keys;
}

describe('[MS-SIPAE] message signatures, against a captured Communicator 2007 R2 sign-in', () => {
  it('recovers the session from the captured AUTHENTICATE message', () => {
    const keys = captureKeys();
    expect(keys.flags & NtlmFlag.DATAGRAM).toBeTruthy();
    expect(verifyAuthenticate(parseAuthenticate(TYPE3), parseChallenge(TYPE2).serverChallenge, 'Pa$$w0rd')).toBeUndefined();
  });

  it('builds the client signature string (3.2.5.1.1, version 4) and its MAC', () => {
    const fields = { protocol: 'NTLM', rand: '13317733', num: '1', realm: 'SIP Communications Service', targetName: 'cosmo-ocs-r2.cosmo.local', ...messageFields(parseRawMessage(REQUEST)) };
    const text = signatureString(4, fields);
    expect(text).toBe('<NTLM><13317733><1><SIP Communications Service><cosmo-ocs-r2.cosmo.local><4037df9284354df39065195bd57a4b14><3><REGISTER><sip:user@cosmo.local><3e49177a52><sip:user@cosmo.local><><><><>');
    const keys = captureKeys();
    expect(ntlmMac(keys.flags, keys.clientSigningKey, keys.clientSealingKey, SIP_SIGNATURE_SEQUENCE, Buffer.from(text)).toString('hex')).toBe('0100000029618e9651b65a7764000000');
  });

  it('verifies the server rspauth and rejects a tampered one', () => {
    const association = { protocol: 'NTLM', realm: 'SIP Communications Service', targetName: 'cosmo-ocs-r2.cosmo.local', opaque: '2BDBAC9D', version: 4, keys: captureKeys() };
    const signer = new MessageSigner(association);
    expect(signer.verify(parseRawMessage(RESPONSE))).toBe(true);
    const tampered = RESPONSE.replace('rspauth="01000000E615', 'rspauth="01000000E616');
    expect(() => signer.verify(parseRawMessage(tampered))).toThrow(SignatureError);
    const otherExpires = RESPONSE.replace('Expires: 7200', 'Expires: 3600');
    expect(() => signer.verify(parseRawMessage(otherExpires))).toThrow(SignatureError);
    expect(() => signer.verify(parseRawMessage(RESPONSE.replace(/rspauth="[^"]*"/, 'rspauth="zz"')))).toThrow(SignatureError);
    expect(signer.verify(parseRawMessage(RESPONSE.replace(/Authentication-Info:[^\r]*\r\n/, '')))).toBe(false);
  });

  it('signs outgoing messages with fresh crand and increasing cnum', () => {
    const signer = new MessageSigner({ protocol: 'NTLM', realm: 'r', targetName: 't', opaque: 'o', version: 4, keys: captureKeys() });
    const a = signer.sign(parseRawMessage(REQUEST));
    const b = signer.sign(parseRawMessage(REQUEST));
    expect([a.cnum, b.cnum]).toEqual(['1', '2']);
    expect(a.crand).toMatch(/^[0-9a-f]{8}$/);
    expect(a.response).toMatch(/^01000000[0-9a-f]{16}64000000$/);
  });

  it('uses the version 2 layout without To URI and asserted identity', () => {
    const fields = { protocol: 'NTLM', rand: 'r', num: '1', realm: 'R', targetName: 'T', ...messageFields(parseRawMessage(RESPONSE)) };
    expect(signatureString(2, fields)).toBe('<NTLM><r><1><R><T><4037df9284354df39065195bd57a4b14><3><REGISTER><sip:user@cosmo.local><3e49177a52><5E61CCD925D17E043D9A74835A88F664><7200><200>');
  });
});

describe('NTLMv1 signature form (no extended session security)', () => {
  it('matches the davenport "jCIFS" example', () => {
    const key = Buffer.from([0x01, 0x02, 0x03, 0x04, 0x05, 0xe5, 0x38, 0xb0]);
    expect(ntlmMac(0, key, key, 0, Buffer.from('jCIFS'), 0x00090178).toString('hex')).toBe('0100000078010900397420fe0e5a0f89');
  });
});
