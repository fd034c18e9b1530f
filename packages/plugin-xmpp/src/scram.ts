import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCRAM (RFC 5802) for the SHA-256 variant (RFC 7677), which @xmpp/client
 * does not ship, as a `saslmechanisms` mechanism: `response()` gives the
 * next client message, `challenge()` takes the server's.
 * No channel binding (the -PLUS variants are not offered by this client: gs2 header "n,,").
 */
export interface ScramMechanism {
  readonly name: string;
  readonly clientFirst: boolean;
  response(credentials: { username: string; password: string }): string;
  challenge(data: string): ScramMechanism;
}

export function scramMechanism(
  name: 'SCRAM-SHA-256' | 'SCRAM-SHA-1',
  hash: 'sha256' | 'sha1',
  nonce: () => string = () => randomBytes(18).toString('base64'),
): new () => ScramMechanism {
  const size = hash === 'sha256' ? 32 : 20;

  class Scram implements ScramMechanism {
    declare readonly name: string;
    declare readonly clientFirst: boolean;
    private step: 'first' | 'final' | 'verify' | 'done' = 'first';
    private clientNonce = '';
    private firstBare = '';
    private serverSignature: Buffer | undefined;
    private serverFirst = '';

    response(credentials: { username: string; password: string }): string {
      if (this.step === 'first') {
        this.clientNonce = nonce();
        this.firstBare = `n=${saslName(credentials.username)},r=${this.clientNonce}`;
        this.step = 'final';
        return `n,,${this.firstBare}`;
      }
      if (this.step === 'verify') {
        const attrs = parse(this.serverFirst);
        const serverNonce = attrs.get('r') ?? '';
        const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
        const iterations = Number(attrs.get('i'));
        if (!serverNonce.startsWith(this.clientNonce) || serverNonce.length === this.clientNonce.length) throw new Error('SCRAM: the server nonce does not extend ours');
        if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000 || salt.length === 0) throw new Error('SCRAM: bad salt or iteration count');
        const withoutProof = `c=biws,r=${serverNonce}`;
        const authMessage = `${this.firstBare},${this.serverFirst},${withoutProof}`;
        const salted = pbkdf2Sync(credentials.password.normalize('NFKC'), salt, iterations, size, hash);
        const clientKey = hmac(salted, 'Client Key');
        const storedKey = createHash(hash).update(clientKey).digest();
        const signature = hmac(storedKey, authMessage);
        const proof = Buffer.alloc(size);
        for (let i = 0; i < size; i++) proof[i] = clientKey[i]! ^ signature[i]!;
        this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
        this.step = 'done';
        return `${withoutProof},p=${proof.toString('base64')}`;
      }
      return '';
    }

    challenge(data: string): this {
      if (this.step === 'final') {
        this.serverFirst = data;
        this.step = 'verify';
        return this;
      }
      // server-final-message: v=<signature> proves the server knows the password too (RFC 5802 §3).
      const attrs = parse(data);
      const error = attrs.get('e');
      if (error !== undefined) throw new Error(`SCRAM: server error ${error}`);
      const v = Buffer.from(attrs.get('v') ?? '', 'base64');
      if (this.serverSignature === undefined || v.length !== this.serverSignature.length || !timingSafeEqual(v, this.serverSignature)) {
        throw new Error('SCRAM: the server signature does not match');
      }
      return this;
    }
  }

  function hmac(key: Buffer, text: string): Buffer {
    return createHmac(hash, key).update(text).digest();
  }

  Object.defineProperty(Scram.prototype, 'name', { value: name });
  Object.defineProperty(Scram.prototype, 'clientFirst', { value: true });
  return Scram;
}

/** RFC 5802 §5.1: "=" and "," in the name are escaped. */
function saslName(name: string): string {
  return name.normalize('NFKC').replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parse(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}
