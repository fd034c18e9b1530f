/**
 * Message integrity for SIP ([MS-SIPAE] 3.2.5.1, 3.2.5.2): every message
 * after the handshake carries a signature (NTLM's MAC, or Kerberos's GSS
 * MIC) over a "signature string" built from selected header values; the
 * server signs its messages with `rspauth` in `Authentication-Info`.
 */
import { ParleyError } from '@parley/core';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from './crypto/crc32.js';
import { rc4k } from './crypto/rc4.js';
import { NtlmFlag, type SessionKeys } from './ntlm.js';
import { parseAuthHeader } from './auth/params.js';
import { headerValue, methodOf, statusCode, type RawMessage } from './sip/headers.js';

/**
 * The NTLM sequence number used for SIP signatures. Office Communicator
 * signs each message independently (connection-less mode) with the fixed
 * sequence number 100, the value pidgin-sipe also uses.
 */
export const SIP_SIGNATURE_SEQUENCE = 100;

/**
 * MAC(Handle, SigningKey, SeqNum, Message) ([MS-NLMP] 3.4.4). With extended
 * session security in datagram mode the RC4 handle is re-keyed per message
 * from MD5(SealingKey, SeqNum) ([MS-NLMP] 3.4.3); without it the NTLMv1
 * CRC32 form is used.
 */
export function ntlmMac(flags: number, signingKey: Buffer, sealingKey: Buffer, sequence: number, message: Buffer, randomPad = 0): Buffer {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(sequence >>> 0, 0);
  const signature = Buffer.alloc(16);
  signature.writeUInt32LE(1, 0);
  if (flags & NtlmFlag.EXTENDED_SESSIONSECURITY) {
    const handleKey = flags & NtlmFlag.DATAGRAM ? createHash('md5').update(sealingKey).update(seq).digest() : sealingKey;
    const checksum = createHmac('md5', signingKey).update(seq).update(message).digest().subarray(0, 8);
    (flags & NtlmFlag.KEY_EXCH ? rc4k(handleKey, checksum) : checksum).copy(signature, 4);
    seq.copy(signature, 12);
  } else {
    const plain = Buffer.alloc(12);
    plain.writeUInt32LE(crc32(message), 4);
    seq.copy(plain, 8);
    rc4k(sealingKey, plain).copy(signature, 4);
    signature.writeUInt32LE(randomPad >>> 0, 4);
  }
  return signature;
}

export interface SignatureFields {
  protocol: string;
  rand: string;
  num: string;
  realm: string;
  targetName: string;
  callId: string;
  cseq: string;
  method: string;
  fromUrl: string;
  fromTag: string;
  toUrl: string;
  toTag: string;
  paiSipUri: string;
  paiTelUri: string;
  expires: string;
  /** Status code for responses. */
  response: number | undefined;
}

/**
 * The signature string ([MS-SIPAE] 3.2.5.1.1). Protocol version 3 and later
 * add the To URI and the asserted identity; earlier versions omit them.
 */
export function signatureString(version: number, f: SignatureFields): string {
  const parts =
    version < 3
      ? [f.protocol, f.rand, f.num, f.realm, f.targetName, f.callId, f.cseq, f.method, f.fromUrl, f.fromTag, f.toTag, f.expires]
      : [f.protocol, f.rand, f.num, f.realm, f.targetName, f.callId, f.cseq, f.method, f.fromUrl, f.fromTag, f.toUrl, f.toTag, f.paiSipUri, f.paiTelUri, f.expires];
  return parts.map((p) => `<${p}>`).join('') + (f.response !== undefined ? `<${f.response}>` : '');
}

const between = (value: string, start: string, end: string): string => {
  const i = value.indexOf(start);
  if (i < 0) return '';
  const from = i + start.length;
  const j = value.indexOf(end, from);
  return j < 0 ? value.slice(from) : value.slice(from, j);
};

/** The message-derived part of the signature string. */
export function messageFields(message: RawMessage): Omit<SignatureFields, 'protocol' | 'rand' | 'num' | 'realm' | 'targetName'> {
  const from = headerValue(message, 'From') ?? '';
  const to = headerValue(message, 'To') ?? '';
  let paiSipUri = '';
  let paiTelUri = '';
  const pai = headerValue(message, 'P-Asserted-Identity') ?? headerValue(message, 'P-Preferred-Identity');
  if (pai !== undefined) {
    for (const part of pai.split(',')) {
      const uri = between(part, '<', '>') || part.trim();
      if (/^sip:/i.test(uri)) paiSipUri = uri;
      else if (/^tel:/i.test(uri)) paiTelUri = uri;
    }
  }
  return {
    callId: headerValue(message, 'Call-ID') ?? '',
    cseq: (headerValue(message, 'CSeq') ?? '').trim().split(/\s+/)[0] ?? '',
    method: methodOf(message),
    fromUrl: between(from, '<', '>'),
    fromTag: between(from, ';tag=', ';'),
    toUrl: between(to, '<', '>'),
    toTag: between(to, ';tag=', ';'),
    paiSipUri,
    paiTelUri,
    expires: headerValue(message, 'Expires') ?? '',
    response: statusCode(message),
  };
}

/**
 * The MAC of one security association over a signature string: NTLM's
 * (below), or Kerberos's GSS get_mic / verify_mic ([MS-SIPAE] 3.2.5.1).
 */
export interface MessageMac {
  /** The signature the client sends (`response`). */
  sign(text: Buffer): Buffer;
  /** Whether `signature` is the server's (`rspauth`) over `text`. */
  verify(text: Buffer, signature: Buffer): boolean;
  /** Hex digits a well-formed signature has, when the scheme fixes it (NTLM: 32). */
  readonly hexLength?: number;
}

/** NTLM signatures with the session keys, in connection-less mode with sequence number 100. */
export function ntlmMessageMac(keys: SessionKeys): MessageMac {
  return {
    hexLength: 32,
    sign: (text) => ntlmMac(keys.flags, keys.clientSigningKey, keys.clientSealingKey, SIP_SIGNATURE_SEQUENCE, text),
    verify: (text, received) => {
      if (received.length !== 16) return false;
      const expected = ntlmMac(keys.flags, keys.serverSigningKey, keys.serverSealingKey, SIP_SIGNATURE_SEQUENCE, text, received.readUInt32LE(4));
      return timingSafeEqual(received, expected);
    },
  };
}

export interface SecurityAssociation {
  protocol: string;
  realm: string;
  targetName: string;
  opaque: string;
  version: number;
  /** NTLM session keys; or `mac` for any other scheme. */
  keys?: SessionKeys;
  mac?: MessageMac;
}

export class SignatureError extends ParleyError {
  declare readonly code: 'ocs-signature-invalid';
  constructor(message: string) {
    super('ocs-signature-invalid', message);
  }
}

/** Signs outgoing and verifies incoming messages for one security association. */
export class MessageSigner {
  private num = 0;
  private readonly mac: MessageMac;

  constructor(readonly association: SecurityAssociation) {
    const mac = association.mac ?? (association.keys ? ntlmMessageMac(association.keys) : undefined);
    if (!mac) throw new SignatureError('A security association needs session keys or a MAC');
    this.mac = mac;
  }

  /** Signature parameters for an outgoing message: `crand`, `cnum`, `response`. */
  sign(message: RawMessage): { crand: string; cnum: string; response: string } {
    const a = this.association;
    const crand = randomBytes(4).toString('hex');
    const cnum = String(++this.num);
    const text = signatureString(a.version, { protocol: a.protocol, rand: crand, num: cnum, realm: a.realm, targetName: a.targetName, ...messageFields(message) });
    return { crand, cnum, response: this.mac.sign(Buffer.from(text, 'utf8')).toString('hex') };
  }

  /**
   * Checks `rspauth` of an incoming message. Returns false when the message
   * carries no signature; throws SignatureError when it carries a bad one.
   */
  verify(message: RawMessage): boolean {
    const info = headerValue(message, 'Authentication-Info');
    if (info === undefined) return false;
    let params: ReadonlyMap<string, string>;
    try {
      params = parseAuthHeader(info).params;
    } catch (error) {
      throw new SignatureError(`Unreadable Authentication-Info: ${(error as Error).message}`);
    }
    const rspauth = params.get('rspauth');
    if (rspauth === undefined) return false;
    const a = this.association;
    const text = signatureString(a.version, {
      protocol: a.protocol,
      rand: params.get('srand') ?? '',
      num: params.get('snum') ?? '',
      realm: params.get('realm') ?? a.realm,
      targetName: params.get('targetname') ?? a.targetName,
      ...messageFields(message),
    });
    const hexLength = this.mac.hexLength;
    const wellFormed = hexLength !== undefined ? rspauth.length === hexLength : rspauth.length > 0 && rspauth.length <= 1024 && rspauth.length % 2 === 0;
    if (!wellFormed || !/^[0-9a-fA-F]*$/.test(rspauth)) throw new SignatureError('Malformed message signature from the server');
    if (!this.mac.verify(Buffer.from(text, 'utf8'), Buffer.from(rspauth, 'hex'))) throw new SignatureError('Invalid message signature received');
    return true;
  }
}
