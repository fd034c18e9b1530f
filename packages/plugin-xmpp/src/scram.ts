import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { defineErrorCodes, ParleyError } from '@parley/core';

/**
 * SCRAM client (RFC 5802; SHA-256 variant RFC 7677) on Node's native crypto.
 * No channel binding: this client never offers the -PLUS variants, so its
 * GS2 header is "n,," (RFC 5802 §7, gs2-cbind-flag "n").
 */
export type ScramName = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
export type ScramHash = 'sha1' | 'sha256';

export const SCRAM_HASH: Readonly<Record<ScramName, ScramHash>> = { 'SCRAM-SHA-1': 'sha1', 'SCRAM-SHA-256': 'sha256' };
const HASH_SIZE: Readonly<Record<ScramHash, number>> = { sha1: 20, sha256: 32 };

/**
 * Iteration counts we compute. RFC 5802 §5.1 / RFC 7677 §4: servers should
 * announce at least 4096; a lower count from a hostile server would make the
 * proof we send cheap to brute-force, a huge one would keep us busy.
 */
export const MIN_ITERATIONS = 4096;
export const MAX_ITERATIONS = 10_000_000;

/** Why a SCRAM exchange (RFC 5802) stopped; a `ScramError`'s code is `xmpp-scram-` and this. */
export type ScramErrorCode =
  | 'malformed-server-first'
  | 'malformed-server-final'
  | 'nonce-mismatch'
  | 'iterations-out-of-range'
  | 'mandatory-extension'
  | 'server-error'
  | 'server-signature-mismatch'
  | 'missing-server-final'
  | 'out-of-order';

/** Every code the XMPP plugin's own errors carry; they reach the user as the cause of a ConnectionError. */
export const XMPP_ERROR_CODES = defineErrorCodes<`xmpp-scram-${ScramErrorCode}`>({
  'xmpp-scram-malformed-server-first': { class: 'ScramError', fatal: true, when: "The server's first SCRAM message cannot be parsed.", action: "Tell the server's administrator; choose another server if it persists." },
  'xmpp-scram-malformed-server-final': { class: 'ScramError', fatal: true, when: "The server's final SCRAM message cannot be parsed.", action: "Tell the server's administrator." },
  'xmpp-scram-nonce-mismatch': { class: 'ScramError', fatal: true, when: 'The server changed the SCRAM nonce: it is not following the exchange.', action: 'Check the connect server setting: this may not be the real server.' },
  'xmpp-scram-iterations-out-of-range': { class: 'ScramError', fatal: true, when: 'The server asked for too few (under 4096) or too many iterations.', action: "Tell the server's administrator to use a sane iteration count." },
  'xmpp-scram-mandatory-extension': { class: 'ScramError', fatal: true, when: 'The server requires a SCRAM extension the plugin does not know.', action: "Tell the server's administrator." },
  'xmpp-scram-server-error': { class: 'ScramError', fatal: true, when: 'The server ended SCRAM with an error (usually a wrong password).', action: 'Check the password.' },
  'xmpp-scram-server-signature-mismatch': { class: 'ScramError', fatal: true, when: 'The server could not prove it knows the password.', action: 'Check the connect server setting: this may not be the real server.' },
  'xmpp-scram-missing-server-final': { class: 'ScramError', fatal: true, when: 'The server accepted the login without sending its proof.', action: 'Check the connect server setting: this may not be the real server.' },
  'xmpp-scram-out-of-order': { class: 'ScramError', fatal: true, when: 'SCRAM messages came in the wrong order.', action: "Tell the server's administrator." },
});

/** A SCRAM exchange that cannot go on; `reason` says why, `code` is `xmpp-scram-` and the reason. */
export class ScramError extends ParleyError {
  declare readonly code: `xmpp-scram-${ScramErrorCode}`;
  constructor(
    /** Why the exchange stopped, `code` without its `xmpp-scram-`. */
    readonly reason: ScramErrorCode,
    message: string,
  ) {
    super(`xmpp-scram-${reason}`, message);
  }
}

export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

/** Salted passwords already derived, keyed by hash, salt and iteration count (RFC 5802 §5.1 lets a client keep them). */
export interface SaltedPasswordCache {
  get(hash: ScramHash, salt: Buffer, iterations: number, password: string): Promise<Buffer | undefined>;
  set(hash: ScramHash, salt: Buffer, iterations: number, password: string, salted: Buffer): Promise<void>;
}

const pbkdf2Async = promisify(pbkdf2);

/** Hi() of RFC 5802 §2.2 is PBKDF2 with HMAC and dkLen = the hash's output size. */
export function deriveSaltedPassword(password: string, salt: Buffer, iterations: number, hash: ScramHash): Promise<Buffer> {
  return pbkdf2Async(normalizePassword(password), salt, iterations, HASH_SIZE[hash], hash);
}

/** SASLprep (RFC 4013) maps with NFKC; this is the normalisation part of it. */
function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** RFC 5802 §5.1: "=" and "," in the name are escaped. */
export function saslName(name: string): string {
  return name.normalize('NFKC').replace(/=/g, '=3D').replace(/,/g, '=2C');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 5802 §7: printable = %x21-2B / %x2D-7E (no comma).
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const POSITIVE = /^[1-9][0-9]{0,9}$/;

function base64(value: string, code: ScramErrorCode, what: string): Buffer {
  if (value === '' || !BASE64.test(value)) throw new ScramError(code, `SCRAM: the server's ${what} is not base64`);
  return Buffer.from(value, 'base64');
}

/** Splits "a=..,b=.." into ordered attributes; each must be one letter, "=", then a value. */
function attributes(message: string, code: ScramErrorCode, what: string): Array<[string, string]> {
  if (message.length > 8192) throw new ScramError(code, `SCRAM: the ${what} is too long`);
  return message.split(',').map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw new ScramError(code, `SCRAM: the ${what} is malformed`);
    return [part[0]!, part.slice(2)];
  });
}

/**
 * server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions]
 * (RFC 5802 §7). Checks that the server's nonce starts with ours and adds to it (§5.1).
 */
export function parseServerFirst(message: string, clientNonce: string): ServerFirst {
  const code = 'malformed-server-first';
  const attrs = attributes(message, code, 'server-first message');
  if (attrs[0]?.[0] === 'm') throw new ScramError('mandatory-extension', 'SCRAM: the server requires an extension this client does not support');
  const [r, s, i] = attrs;
  if (r?.[0] !== 'r' || s?.[0] !== 's' || i?.[0] !== 'i') throw new ScramError(code, 'SCRAM: the server-first message lacks the nonce, salt or iteration count');
  const nonce = r[1];
  if (!PRINTABLE.test(nonce)) throw new ScramError(code, 'SCRAM: the server nonce has characters it may not have');
  if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) throw new ScramError('nonce-mismatch', 'SCRAM: the server nonce does not extend ours');
  const salt = base64(s[1], code, 'salt');
  if (!POSITIVE.test(i[1])) throw new ScramError(code, 'SCRAM: the iteration count is not a positive number');
  const iterations = Number(i[1]);
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new ScramError('iterations-out-of-range', `SCRAM: the server asks for ${iterations} iterations (accepted: ${MIN_ITERATIONS} to ${MAX_ITERATIONS})`);
  }
  return { nonce, salt, iterations };
}

/** server-final-message = (server-error / verifier) ["," extensions] (RFC 5802 §7). */
export function parseServerFinal(message: string): { verifier: Buffer } | { error: string } {
  const code = 'malformed-server-final';
  const [first] = attributes(message, code, 'server-final message');
  if (first?.[0] === 'e') {
    // server-error-value: a token like "invalid-proof" (§7); shown as the server said it, cut short.
    return { error: first[1].slice(0, 100) };
  }
  if (first?.[0] !== 'v') throw new ScramError(code, 'SCRAM: the server-final message has no verifier');
  return { verifier: base64(first[1], code, 'verifier') };
}

export interface ScramClientOptions {
  /** The client nonce; random by default (tests pass the RFCs' fixed ones). */
  nonce?: () => string;
  cache?: SaltedPasswordCache;
  derive?: typeof deriveSaltedPassword;
}

/**
 * One SCRAM exchange: clientFirst → (server-first) clientFinal →
 * (server-final) verifyServerFinal. Any step out of order throws.
 */
export class ScramClient {
  readonly hash: ScramHash;
  private step: 'start' | 'first-sent' | 'final-sent' | 'verified' = 'start';
  private clientNonce = '';
  private firstBare = '';
  private serverSignature: Buffer | undefined;
  /** Whether the salted password came from the cache (no key derivation this time). */
  fromCache: boolean | undefined;
  /** A salted password derived by this exchange, for `keep` to put in the cache. */
  private derived: { salt: Buffer; iterations: number; password: string; salted: Buffer } | undefined;

  constructor(
    readonly mechanism: ScramName,
    private readonly options: ScramClientOptions = {},
  ) {
    this.hash = SCRAM_HASH[mechanism];
  }

  get verified(): boolean {
    return this.step === 'verified';
  }

  clientFirst(username: string): string {
    if (this.step !== 'start') throw new ScramError('out-of-order', 'SCRAM: the exchange was already started');
    this.clientNonce = this.options.nonce?.() ?? randomBytes(24).toString('base64');
    this.firstBare = `n=${saslName(username)},r=${this.clientNonce}`;
    this.step = 'first-sent';
    return `n,,${this.firstBare}`;
  }

  async clientFinal(serverFirstMessage: string, password: string): Promise<string> {
    if (this.step !== 'first-sent') throw new ScramError('out-of-order', 'SCRAM: a server-first message was not expected now');
    const first = parseServerFirst(serverFirstMessage, this.clientNonce);
    const salted = await this.saltedPassword(password, first);
    const hash = this.hash;
    // "biws" is base64("n,,"): the GS2 header, without channel binding data.
    const withoutProof = `c=biws,r=${first.nonce}`;
    const authMessage = `${this.firstBare},${serverFirstMessage},${withoutProof}`;
    const clientKey = hmac(hash, salted, 'Client Key');
    const storedKey = createHash(hash).update(clientKey).digest();
    const clientSignature = hmac(hash, storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.serverSignature = hmac(hash, hmac(hash, salted, 'Server Key'), authMessage);
    this.step = 'final-sent';
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** RFC 5802 §3: v= proves the server knows the password too; anything else fails the sign-in. */
  verifyServerFinal(message: string): void {
    if (this.step !== 'final-sent' || this.serverSignature === undefined) throw new ScramError('out-of-order', 'SCRAM: a server-final message was not expected now');
    const final = parseServerFinal(message);
    if ('error' in final) throw new ScramError('server-error', `SCRAM: the server refused the proof (${final.error})`);
    if (final.verifier.length !== this.serverSignature.length || !timingSafeEqual(final.verifier, this.serverSignature)) {
      throw new ScramError('server-signature-mismatch', 'SCRAM: the server signature does not match: the server does not know the password');
    }
    this.step = 'verified';
  }

  private async saltedPassword(password: string, first: ServerFirst): Promise<Buffer> {
    const { cache } = this.options;
    const cached = await cache?.get(this.hash, first.salt, first.iterations, password);
    if (cached !== undefined && cached.length === HASH_SIZE[this.hash]) {
      this.fromCache = true;
      return cached;
    }
    const salted = await (this.options.derive ?? deriveSaltedPassword)(password, first.salt, first.iterations, this.hash);
    this.fromCache = false;
    if (cache !== undefined) this.derived = { salt: first.salt, iterations: first.iterations, password, salted };
    return salted;
  }

  /**
   * Puts the salted password this exchange derived in the cache (once). Not
   * done during the exchange: writing the secret store waits for the disk,
   * and the sign-in would wait with it; the connection calls this once the
   * sign-in is done (a sign-in that fails derives again next time).
   */
  async keep(): Promise<void> {
    const derived = this.derived;
    this.derived = undefined;
    if (derived === undefined) return;
    await this.options.cache?.set(this.hash, derived.salt, derived.iterations, derived.password, derived.salted);
  }
}

function hmac(hash: ScramHash, key: Buffer, text: string): Buffer {
  return createHmac(hash, key).update(text).digest();
}
