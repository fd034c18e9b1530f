import { describe, expect, it } from 'vitest';
import {
  computeV2Response,
  createAuthenticate,
  createChallenge,
  deriveSessionKeys,
  encodeAvPairs,
  NtlmError,
  NtlmFlag,
  ntowfv2,
  parseAuthenticate,
  parseChallenge,
  splitLogin,
  verifyAuthenticate,
} from './ntlm.js';
import { Rc4 } from './crypto/rc4.js';
import { createHmac } from 'node:crypto';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// [MS-NLMP] 4.2.4.3: the CHALLENGE_MESSAGE of the NTLMv2 examples.
const SPEC_CHALLENGE = fromHex(
  '4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000' +
    '060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c00530065007200760065007200' +
    '0000000000000000',
);
const SPEC_TARGET_INFO = fromHex('02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000'.slice(0, 72));

describe('[MS-NLMP] 4.2.4 NTLMv2 authentication', () => {
  const challenge = parseChallenge(SPEC_CHALLENGE);
  const clientChallenge = Buffer.alloc(8, 0xaa);
  const randomSessionKey = Buffer.alloc(16, 0x55);

  it('parses the challenge message (4.2.4.3)', () => {
    expect(challenge.flags >>> 0).toBe(0xe28a8233);
    expect(hex(challenge.serverChallenge)).toBe('0123456789abcdef');
    expect(challenge.targetName).toBe('Server');
    expect(hex(challenge.targetInfo)).toBe(hex(SPEC_TARGET_INFO));
  });

  it('computes NTOWFv2 (4.2.4.1.1)', () => {
    expect(hex(ntowfv2('Password', 'User', 'Domain'))).toBe('0c868a403bfd7a93a3001ef22ef02e3f');
  });

  it('computes the LMv2 and NTLMv2 responses and the session base key (4.2.4.1.2, 4.2.4.2)', () => {
    const r = computeV2Response(ntowfv2('Password', 'User', 'Domain'), challenge.serverChallenge, clientChallenge, 0n, challenge.targetInfo);
    expect(hex(r.lmChallengeResponse)).toBe('86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa');
    expect(hex(r.ntProofStr)).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(hex(r.sessionBaseKey)).toBe('8de40ccadbc14a82f15cb0ad0de95ca3');
  });

  it('builds an AUTHENTICATE message with the spec encrypted session key and keys (4.2.4.2.3, 4.2.4.4)', () => {
    const { message, keys } = createAuthenticate({ challenge, user: 'User', domain: 'Domain', workstation: 'COMPUTER', password: 'Password', clientChallenge, time: 0n, randomSessionKey });
    const parsed = parseAuthenticate(message);
    expect(parsed.user).toBe('User');
    expect(parsed.domain).toBe('Domain');
    expect(parsed.workstation).toBe('COMPUTER');
    expect(hex(parsed.encryptedRandomSessionKey)).toBe('c5dad2544fc9799094ce1ce90bc9d03e');
    expect(hex(parsed.ntChallengeResponse.subarray(0, 16))).toBe('68cd0ab851e51c96aabc927bebef6a1c');
    expect(hex(keys.exportedSessionKey)).toBe(hex(randomSessionKey));
    expect(hex(keys.clientSigningKey)).toBe('4788dc861b4782f35d43fd98fe1a2d39');
    expect(hex(keys.clientSealingKey)).toBe('59f600973cc4960a25480a7c196e4c58');
  });

  it('seals and signs the 4.2.4.4 plaintext with the derived keys', () => {
    const keys = deriveSessionKeys(challenge.flags, randomSessionKey);
    const plaintext = Buffer.from('Plaintext', 'utf16le');
    const handle = new Rc4(keys.clientSealingKey);
    expect(hex(handle.update(plaintext))).toBe('54e50165bf1936dc996020c1811b0f06fb5f');
    const checksum = createHmac('md5', keys.clientSigningKey).update(Buffer.alloc(4)).update(plaintext).digest().subarray(0, 8);
    expect(hex(checksum)).toBe('70352851f2564309');
    expect(hex(handle.update(checksum))).toBe('7fb38ec5c55d4976');
  });

  it('lets the server side verify the response and recover the same keys', () => {
    const { message, keys } = createAuthenticate({ challenge, user: 'User', domain: 'Domain', workstation: 'COMPUTER', password: 'Password' });
    const recovered = verifyAuthenticate(parseAuthenticate(message), challenge.serverChallenge, 'Password');
    expect(recovered && hex(recovered.serverSigningKey)).toBe(hex(keys.serverSigningKey));
    expect(verifyAuthenticate(parseAuthenticate(message), challenge.serverChallenge, 'password')).toBeUndefined();
  });
});

describe('challenge round trip', () => {
  it('builds a challenge the parser reads back', () => {
    const info = encodeAvPairs([{ id: 2, value: Buffer.from('EXAMPLE', 'utf16le') }, { id: 7, value: Buffer.from('0102030405060708', 'hex') }]);
    const parsed = parseChallenge(createChallenge({ flags: NtlmFlag.UNICODE | NtlmFlag.DATAGRAM, serverChallenge: Buffer.alloc(8, 1), targetName: 'EXAMPLE', targetInfo: info }));
    expect(parsed.targetName).toBe('EXAMPLE');
    expect(parsed.timestamp).toBe(0x0807060504030201n);
  });
});

describe('malformed NTLM input', () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['wrong signature', Buffer.from('NTLMSSQ\0\x02\0\0\0' + '\0'.repeat(40), 'latin1')],
    ['wrong type', Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(40)])],
    ['truncated header', SPEC_CHALLENGE.subarray(0, 20)],
    ['target info outside the message', SPEC_CHALLENGE.subarray(0, 60)],
  ])('rejects a challenge: %s', (_name, buf) => {
    expect(() => parseChallenge(buf)).toThrow(NtlmError);
  });

  it('rejects target info without an end marker', () => {
    const bad = Buffer.from(SPEC_CHALLENGE);
    bad.writeUInt16LE(0x30, 40); // shorter than the pairs: cuts the list
    expect(() => parseChallenge(bad)).toThrow(NtlmError);
  });

  it('rejects a challenge offset that overflows', () => {
    const bad = Buffer.from(SPEC_CHALLENGE);
    bad.writeUInt32LE(0xffffffff, 44);
    expect(() => parseChallenge(bad)).toThrow(NtlmError);
  });

  it('rejects a non-Unicode server', () => {
    const challenge = parseChallenge(createChallenge({ flags: NtlmFlag.OEM | NtlmFlag.DATAGRAM, serverChallenge: Buffer.alloc(8), targetName: '', targetInfo: Buffer.alloc(0) }));
    expect(() => createAuthenticate({ challenge, user: 'u', domain: '', workstation: 'w', password: 'p' })).toThrow(NtlmError);
  });

  it('rejects an authenticate message with bad fields', () => {
    expect(() => parseAuthenticate(SPEC_CHALLENGE)).toThrow(NtlmError);
    const { message } = createAuthenticate({ challenge: parseChallenge(SPEC_CHALLENGE), user: 'u', domain: 'd', workstation: 'w', password: 'p' });
    const bad = Buffer.from(message);
    bad.writeUInt32LE(message.length + 10, 20 + 4);
    expect(() => parseAuthenticate(bad)).toThrow(NtlmError);
  });

  it('does not accept an NTLMv1-sized response', () => {
    const { message } = createAuthenticate({ challenge: parseChallenge(SPEC_CHALLENGE), user: 'u', domain: 'd', workstation: 'w', password: 'p' });
    const parsed = parseAuthenticate(message);
    expect(verifyAuthenticate({ ...parsed, ntChallengeResponse: parsed.ntChallengeResponse.subarray(0, 24) }, Buffer.alloc(8), 'p')).toBeUndefined();
  });
});

describe('splitLogin', () => {
  it('splits DOMAIN\\user and keeps user@domain whole', () => {
    expect(splitLogin('EXAMPLE\\me')).toEqual({ domain: 'EXAMPLE', user: 'me' });
    expect(splitLogin('me@example.com')).toEqual({ domain: '', user: 'me@example.com' });
    expect(splitLogin('me')).toEqual({ domain: '', user: 'me' });
  });
});
