/**
 * NTLMv2 in connection-less (datagram) mode, as [MS-SIPAE] 3.2.2 runs it for
 * SIP: there is no NEGOTIATE message, the server's CHALLENGE arrives in a
 * 401's `gssapi-data`, and the client answers with an AUTHENTICATE message
 * and from then on signs every message with the derived keys.
 *
 * Message layouts and key derivations follow [MS-NLMP] 2.2.1 and 3.3.2 /
 * 3.4.5. The server half (challenge building and response verification) is
 * here too, so a registrar can check a client with the same code paths.
 */
import { ParleyError } from '@parley/core';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { md4 } from './crypto/md4.js';
import { rc4k } from './crypto/rc4.js';

/** Negotiate flags, [MS-NLMP] 2.2.2.5. */
export const NtlmFlag = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const;

/** What a connection-less client asks for ([MS-SIPAE] 3.2.2: datagram, signing, key exchange). */
export const CONNECTIONLESS_FLAGS =
  (NtlmFlag.UNICODE |
    NtlmFlag.NTLM |
    NtlmFlag.ALWAYS_SIGN |
    NtlmFlag.EXTENDED_SESSIONSECURITY |
    NtlmFlag.TARGET_INFO |
    NtlmFlag.VERSION |
    NtlmFlag.NEGOTIATE_128 |
    NtlmFlag.KEY_EXCH |
    NtlmFlag.NEGOTIATE_56 |
    NtlmFlag.REQUEST_TARGET |
    NtlmFlag.SIGN |
    NtlmFlag.DATAGRAM |
    NtlmFlag.IDENTIFY) >>>
  0;

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
const AUTHENTICATE_HEADER_LENGTH = 72;
/** Seconds between 1601-01-01 and 1970-01-01, for the FILETIME in the NTLMv2 blob. */
const EPOCH_DIFFERENCE_100NS = 116444736000000000n;

export class NtlmError extends ParleyError {
  declare readonly code: 'ocs-ntlm-invalid';
  constructor(message: string) {
    super('ocs-ntlm-invalid', message);
  }
}

export interface NtlmChallenge {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  /** The raw AV_PAIR list, echoed into the NTLMv2 response. */
  targetInfo: Buffer;
  /** MsvAvTimestamp from targetInfo, when the server sent one. */
  timestamp: bigint | undefined;
  /** The whole message as received. */
  raw: Buffer;
}

export interface SessionKeys {
  flags: number;
  exportedSessionKey: Buffer;
  clientSigningKey: Buffer;
  serverSigningKey: Buffer;
  clientSealingKey: Buffer;
  serverSealingKey: Buffer;
}

function field(buf: Buffer, at: number, what: string): Buffer {
  if (buf.length < at + 8) throw new NtlmError(`NTLM message too short for ${what}`);
  const length = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (length === 0) return Buffer.alloc(0);
  if (offset > buf.length || offset + length > buf.length) throw new NtlmError(`NTLM ${what} points outside the message`);
  return buf.subarray(offset, offset + length);
}

function checkHeader(buf: Buffer, type: number): void {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new NtlmError('Not an NTLMSSP message');
  const actual = buf.readUInt32LE(8);
  if (actual !== type) throw new NtlmError(`Expected NTLM message type ${type}, got ${actual}`);
}

/** Parses a CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2); throws NtlmError on anything malformed. */
export function parseChallenge(buf: Buffer): NtlmChallenge {
  checkHeader(buf, 2);
  if (buf.length < 32) throw new NtlmError('NTLM challenge too short');
  const flags = buf.readUInt32LE(20);
  const targetNameBytes = field(buf, 12, 'target name');
  const targetInfo = buf.length >= 48 ? Buffer.from(field(buf, 40, 'target info')) : Buffer.alloc(0);
  let timestamp: bigint | undefined;
  for (const pair of parseAvPairs(targetInfo)) {
    if (pair.id === 7 && pair.value.length === 8) timestamp = pair.value.readBigUInt64LE(0);
  }
  return {
    flags,
    serverChallenge: Buffer.from(buf.subarray(24, 32)),
    targetName: targetNameBytes.toString(flags & NtlmFlag.UNICODE ? 'utf16le' : 'latin1'),
    targetInfo,
    timestamp,
    raw: Buffer.from(buf),
  };
}

/** AV_PAIR list ([MS-NLMP] 2.2.2.1), ending at MsvAvEOL. */
export function parseAvPairs(info: Buffer): Array<{ id: number; value: Buffer }> {
  const pairs: Array<{ id: number; value: Buffer }> = [];
  let at = 0;
  while (at + 4 <= info.length) {
    const id = info.readUInt16LE(at);
    const length = info.readUInt16LE(at + 2);
    if (id === 0) return pairs;
    if (at + 4 + length > info.length) throw new NtlmError('NTLM target info is truncated');
    pairs.push({ id, value: info.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  if (info.length > 0) throw new NtlmError('NTLM target info has no end marker');
  return pairs;
}

export function encodeAvPairs(pairs: ReadonlyArray<{ id: number; value: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  for (const { id, value } of pairs) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0);
    head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]): Buffer => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};
const md5 = (...data: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const d of data) h.update(d);
  return h.digest();
};

/** NTOWFv2 ([MS-NLMP] 3.3.2): HMAC_MD5(MD4(UNICODE(password)), UNICODE(Uppercase(user) + domain)). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(md4(Buffer.from(password, 'utf16le')), Buffer.from(user.toUpperCase() + domain, 'utf16le'));
}

export interface V2Response {
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 ([MS-NLMP] 3.3.2). `time` is a FILETIME (100 ns since 1601). */
export function computeV2Response(responseKey: Buffer, serverChallenge: Buffer, clientChallenge: Buffer, time: bigint, targetInfo: Buffer): V2Response {
  const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8), clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
  temp.writeBigUInt64LE(time, 8);
  const ntProofStr = hmacMd5(responseKey, serverChallenge, temp);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, temp]),
    lmChallengeResponse: Buffer.concat([hmacMd5(responseKey, serverChallenge, clientChallenge), clientChallenge]),
    sessionBaseKey: hmacMd5(responseKey, ntProofStr),
  };
}

const CLIENT_SIGN = Buffer.from('session key to client-to-server signing key magic constant\0', 'latin1');
const SERVER_SIGN = Buffer.from('session key to server-to-client signing key magic constant\0', 'latin1');
const CLIENT_SEAL = Buffer.from('session key to client-to-server sealing key magic constant\0', 'latin1');
const SERVER_SEAL = Buffer.from('session key to server-to-client sealing key magic constant\0', 'latin1');

/** SIGNKEY / SEALKEY ([MS-NLMP] 3.4.5.2, 3.4.5.3) for both directions. */
export function deriveSessionKeys(flags: number, exportedSessionKey: Buffer): SessionKeys {
  const ess = (flags & NtlmFlag.EXTENDED_SESSIONSECURITY) !== 0;
  const sealKey = (magic: Buffer): Buffer => {
    if (ess) {
      const length = flags & NtlmFlag.NEGOTIATE_128 ? 16 : flags & NtlmFlag.NEGOTIATE_56 ? 7 : 5;
      return md5(exportedSessionKey.subarray(0, length), magic);
    }
    if (flags & NtlmFlag.LM_KEY) {
      return flags & NtlmFlag.NEGOTIATE_56
        ? Buffer.concat([exportedSessionKey.subarray(0, 7), Buffer.from([0xa0])])
        : Buffer.concat([exportedSessionKey.subarray(0, 5), Buffer.from([0xe5, 0x38, 0xb0])]);
    }
    return Buffer.from(exportedSessionKey);
  };
  return {
    flags,
    exportedSessionKey,
    clientSigningKey: md5(exportedSessionKey, CLIENT_SIGN),
    serverSigningKey: md5(exportedSessionKey, SERVER_SIGN),
    clientSealingKey: sealKey(CLIENT_SEAL),
    serverSealingKey: sealKey(SERVER_SEAL),
  };
}

export interface AuthenticateInput {
  challenge: NtlmChallenge;
  user: string;
  domain: string;
  workstation: string;
  password: string;
  /** Fixed values for tests; random / now otherwise. */
  clientChallenge?: Buffer;
  time?: bigint;
  randomSessionKey?: Buffer;
}

export interface AuthenticateResult {
  message: Buffer;
  keys: SessionKeys;
}

function nowFiletime(): bigint {
  return BigInt(Date.now()) * 10000n + EPOCH_DIFFERENCE_100NS;
}

/**
 * Builds the AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3, 3.1.5.1.2) and derives
 * the session keys. The negotiated flags are the server's, limited to what a
 * connection-less client supports.
 */
export function createAuthenticate(input: AuthenticateInput): AuthenticateResult {
  const { challenge } = input;
  let flags = ((challenge.flags & CONNECTIONLESS_FLAGS) | NtlmFlag.REQUEST_TARGET) >>> 0;
  if (flags & NtlmFlag.NEGOTIATE_128) flags = (flags & ~NtlmFlag.NEGOTIATE_56) >>> 0;
  if (!(flags & NtlmFlag.UNICODE)) throw new NtlmError('The server does not offer Unicode NTLM');

  const responseKey = ntowfv2(input.password, input.user, input.domain);
  const clientChallenge = input.clientChallenge ?? randomBytes(8);
  const time = input.time ?? challenge.timestamp ?? nowFiletime();
  const response = computeV2Response(responseKey, challenge.serverChallenge, clientChallenge, time, challenge.targetInfo);

  // KXKEY for NTLMv2 is the SessionBaseKey ([MS-NLMP] 3.4.5.1).
  const keyExchangeKey = response.sessionBaseKey;
  let exportedSessionKey: Buffer;
  let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
  if (flags & NtlmFlag.KEY_EXCH) {
    exportedSessionKey = input.randomSessionKey ?? randomBytes(16);
    encryptedRandomSessionKey = rc4k(keyExchangeKey, exportedSessionKey);
  } else {
    exportedSessionKey = keyExchangeKey;
  }

  const payload: Array<[number, Buffer]> = [
    [28, Buffer.from(input.domain, 'utf16le')],
    [36, Buffer.from(input.user, 'utf16le')],
    [44, Buffer.from(input.workstation, 'utf16le')],
    [12, response.lmChallengeResponse],
    [20, response.ntChallengeResponse],
    [52, encryptedRandomSessionKey],
  ];
  const header = Buffer.alloc(AUTHENTICATE_HEADER_LENGTH);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(3, 8);
  let offset = AUTHENTICATE_HEADER_LENGTH;
  for (const [at, data] of payload) {
    if (data.length > 0xffff) throw new NtlmError('NTLM field too long');
    header.writeUInt16LE(data.length, at);
    header.writeUInt16LE(data.length, at + 2);
    header.writeUInt32LE(offset, at + 4);
    offset += data.length;
  }
  header.writeUInt32LE(flags, 60);
  if (flags & NtlmFlag.VERSION) {
    // 6.1.7600, NTLMSSP_REVISION_W2K3 ([MS-NLMP] 2.2.2.10).
    header.writeUInt8(6, 64);
    header.writeUInt8(1, 65);
    header.writeUInt16LE(7600, 66);
    header.writeUInt8(0x0f, 71);
  }
  return {
    message: Buffer.concat([header, ...payload.map(([, d]) => d)]),
    keys: deriveSessionKeys(flags, exportedSessionKey),
  };
}

export interface ParsedAuthenticate {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
}

/** Parses an AUTHENTICATE_MESSAGE (server side); throws NtlmError on anything malformed. */
export function parseAuthenticate(buf: Buffer): ParsedAuthenticate {
  checkHeader(buf, 3);
  if (buf.length < 64) throw new NtlmError('NTLM authenticate message too short');
  const flags = buf.readUInt32LE(60);
  const text = (b: Buffer) => b.toString(flags & NtlmFlag.UNICODE ? 'utf16le' : 'latin1');
  return {
    flags,
    lmChallengeResponse: Buffer.from(field(buf, 12, 'LM response')),
    ntChallengeResponse: Buffer.from(field(buf, 20, 'NT response')),
    domain: text(field(buf, 28, 'domain')),
    user: text(field(buf, 36, 'user')),
    workstation: text(field(buf, 44, 'workstation')),
    encryptedRandomSessionKey: Buffer.from(field(buf, 52, 'session key')),
  };
}

export interface ChallengeInput {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
}

/** Builds a CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2), Unicode. */
export function createChallenge(input: ChallengeInput): Buffer {
  const name = Buffer.from(input.targetName, 'utf16le');
  const header = Buffer.alloc(56);
  SIGNATURE.copy(header, 0);
  header.writeUInt32LE(2, 8);
  header.writeUInt16LE(name.length, 12);
  header.writeUInt16LE(name.length, 14);
  header.writeUInt32LE(56, 16);
  header.writeUInt32LE(input.flags >>> 0, 20);
  input.serverChallenge.copy(header, 24, 0, 8);
  header.writeUInt16LE(input.targetInfo.length, 40);
  header.writeUInt16LE(input.targetInfo.length, 42);
  header.writeUInt32LE(56 + name.length, 44);
  header.writeUInt8(6, 48);
  header.writeUInt8(1, 49);
  header.writeUInt16LE(7600, 50);
  header.writeUInt8(0x0f, 55);
  return Buffer.concat([header, name, input.targetInfo]);
}

/**
 * Server side of [MS-NLMP] 3.2.5.1.2: checks the NTLMv2 proof against the
 * password and recovers the session keys. Returns undefined when the
 * response does not prove knowledge of the password.
 */
export function verifyAuthenticate(
  authenticate: ParsedAuthenticate,
  serverChallenge: Buffer,
  password: string,
): SessionKeys | undefined {
  const nt = authenticate.ntChallengeResponse;
  if (nt.length <= 24) return undefined; // NTLMv1 is not accepted.
  const responseKey = ntowfv2(password, authenticate.user, authenticate.domain);
  const proof = nt.subarray(0, 16);
  const temp = nt.subarray(16);
  const expected = hmacMd5(responseKey, serverChallenge, temp);
  if (!timingSafeEqual(proof, expected)) return undefined;
  const sessionBaseKey = hmacMd5(responseKey, expected);
  let exportedSessionKey: Buffer = sessionBaseKey;
  if (authenticate.flags & NtlmFlag.KEY_EXCH) {
    if (authenticate.encryptedRandomSessionKey.length !== 16) return undefined;
    exportedSessionKey = rc4k(sessionBaseKey, authenticate.encryptedRandomSessionKey);
  }
  return deriveSessionKeys(authenticate.flags, exportedSessionKey);
}

/** "DOMAIN\user" / "user@domain" / "user" → the parts NTLM wants. */
export function splitLogin(login: string): { user: string; domain: string } {
  const backslash = login.indexOf('\\');
  if (backslash >= 0) return { domain: login.slice(0, backslash), user: login.slice(backslash + 1) };
  return { domain: '', user: login };
}
