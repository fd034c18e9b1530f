import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { SecretStoreError } from '../errors/ParleyError.js';
import { writeJsonFile } from '../storage/json-file.js';
import type { PassphraseProvider, SecretStore } from './secret-store.js';

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))));
}

interface EnvelopeV1 {
  v: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

type SecretMap = Record<string, Record<string, string>>;

/** scrypt cost: about 0.1 s and 32 MiB here, per unlock, not per secret. */
const DEFAULT_COST = { N: 1 << 15, r: 8, p: 1 };
const MAX_PASSPHRASE_ATTEMPTS = 3;

function parseEnvelope(value: unknown): EnvelopeV1 {
  const e = value as Partial<EnvelopeV1> | null;
  if (
    typeof e !== 'object' || e === null || e.v !== 1 || e.kdf !== 'scrypt' ||
    typeof e.N !== 'number' || typeof e.r !== 'number' || typeof e.p !== 'number' ||
    typeof e.salt !== 'string' || typeof e.iv !== 'string' || typeof e.tag !== 'string' || typeof e.data !== 'string'
  ) {
    throw new SecretStoreError('secret-store-corrupt', 'The secret file is damaged or of an unknown format');
  }
  return e as EnvelopeV1;
}

/**
 * Secrets in one file, encrypted with AES-256-GCM under a key derived from a
 * passphrase with scrypt. The whole map is re-encrypted with a fresh IV on
 * every change; a wrong passphrase fails authentication and leaves the file
 * untouched.
 */
export class EncryptedFileSecretStore implements SecretStore {
  readonly kind = 'encrypted-file';
  private key: Buffer | undefined;
  private salt: Buffer | undefined;
  private secrets: SecretMap | undefined;
  private unlocking: Promise<SecretMap> | undefined;
  private readonly cost: { N: number; r: number; p: number };

  constructor(
    private readonly path: string,
    private readonly passphrase: PassphraseProvider,
    options: { cost?: { N: number; r: number; p: number } } = {},
  ) {
    this.cost = options.cost ?? DEFAULT_COST;
  }

  private derive(passphrase: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
    return scrypt(passphrase, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 });
  }

  private unlock(): Promise<SecretMap> {
    if (this.secrets !== undefined) return Promise.resolve(this.secrets);
    this.unlocking ??= this.open().finally(() => {
      this.unlocking = undefined;
    });
    return this.unlocking;
  }

  private async open(): Promise<SecretMap> {
    if (!existsSync(this.path)) {
      const passphrase = await this.passphrase({ creating: true, attempt: 1 });
      if (passphrase === undefined || passphrase === '') {
        throw new SecretStoreError('passphrase-required', 'A passphrase is needed to protect stored passwords (set PARLEY_PASSPHRASE or answer the prompt)');
      }
      this.salt = randomBytes(16);
      this.key = await this.derive(passphrase, this.salt, this.cost);
      this.secrets = {};
      return this.secrets;
    }
    let envelope: EnvelopeV1;
    try {
      envelope = parseEnvelope(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (cause) {
      if (cause instanceof SecretStoreError) throw cause;
      throw new SecretStoreError('secret-store-corrupt', `The secret file ${this.path} cannot be read`, { cause });
    }
    const salt = Buffer.from(envelope.salt, 'base64');
    for (let attempt = 1; attempt <= MAX_PASSPHRASE_ATTEMPTS; attempt++) {
      const passphrase = await this.passphrase({ creating: false, attempt });
      if (passphrase === undefined || passphrase === '') {
        throw new SecretStoreError('passphrase-required', 'The passphrase for stored passwords is needed (set PARLEY_PASSPHRASE or answer the prompt)');
      }
      const key = await this.derive(passphrase, salt, envelope);
      const plain = this.decrypt(envelope, key);
      if (plain !== undefined) {
        this.key = key;
        this.salt = salt;
        this.secrets = plain;
        return plain;
      }
    }
    throw new SecretStoreError('wrong-passphrase', 'Wrong passphrase: stored passwords cannot be read (the file was left as it was)');
  }

  private decrypt(envelope: EnvelopeV1, key: Buffer): SecretMap | undefined {
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]).toString('utf8');
      const parsed: unknown = JSON.parse(plain);
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      return parsed as SecretMap;
    } catch {
      return undefined;
    }
  }

  private persist(secrets: SecretMap): void {
    if (this.key === undefined || this.salt === undefined) throw new SecretStoreError('secret-store-unavailable', 'Secret store is locked');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const envelope: EnvelopeV1 = {
      v: 1,
      kdf: 'scrypt',
      ...this.cost,
      salt: this.salt.toString('base64'),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writeJsonFile(this.path, envelope);
  }

  async get(accountId: string, key: string): Promise<string | undefined> {
    const secrets = await this.unlock();
    return secrets[accountId]?.[key];
  }

  async set(accountId: string, key: string, value: string): Promise<void> {
    const secrets = await this.unlock();
    const next: SecretMap = { ...secrets, [accountId]: { ...secrets[accountId], [key]: value } };
    this.persist(next);
    this.secrets = next;
  }

  async delete(accountId: string, key?: string): Promise<void> {
    if (!existsSync(this.path) && this.secrets === undefined) return;
    const secrets = await this.unlock();
    const next: SecretMap = { ...secrets };
    if (key === undefined) delete next[accountId];
    else if (next[accountId] !== undefined) {
      const { [key]: _removed, ...rest } = next[accountId]!;
      next[accountId] = rest;
    }
    this.persist(next);
    this.secrets = next;
  }

  async keys(accountId: string): Promise<string[]> {
    if (!existsSync(this.path) && this.secrets === undefined) return [];
    const secrets = await this.unlock();
    return Object.keys(secrets[accountId] ?? {});
  }
}
