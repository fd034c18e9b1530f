import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SaltedPasswordCache, ScramHash } from './scram.js';

/** Where the cache keeps its entries: the account's secret store (encrypted; never plaintext on disk). */
export interface SecretAccess {
  getSecret(key: string): Promise<string | undefined>;
  setSecret(key: string, value: string): Promise<void>;
}

interface Entry {
  /** salt, base64 */
  s: string;
  /** iteration count */
  i: number;
  /** the salted password, base64 */
  k: string;
  /** ties the entry to the password it was derived from, so a changed password is not answered from the cache */
  c: string;
}

export function cacheKey(hash: ScramHash): string {
  return `scram-salted-password-${hash}`;
}

function passwordCheck(salted: Buffer, password: string): Buffer {
  return createHmac('sha256', salted).update(password).digest();
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return typeof e.s === 'string' && typeof e.i === 'number' && typeof e.k === 'string' && typeof e.c === 'string';
}

/**
 * The salted password per account, hash, salt and iteration count (RFC 5802
 * §5.1: the server is likely to announce the same salt next time), so a
 * reconnect costs no key derivation. One entry per hash: a new salt replaces it.
 * The salted password is a credential for that server just like the password
 * beside it in the same store.
 */
export function secretStoreCache(secrets: SecretAccess, onError: (error: unknown) => void = () => {}): SaltedPasswordCache {
  return {
    async get(hash, salt, iterations, password) {
      let raw: string | undefined;
      try {
        raw = await secrets.getSecret(cacheKey(hash));
      } catch (error) {
        // A cache that cannot be read only costs one key derivation.
        onError(error);
        return undefined;
      }
      if (raw === undefined) return undefined;
      let entry: unknown;
      try {
        entry = JSON.parse(raw);
      } catch {
        return undefined;
      }
      if (!isEntry(entry) || entry.i !== iterations || entry.s !== salt.toString('base64')) return undefined;
      const salted = Buffer.from(entry.k, 'base64');
      const check = Buffer.from(entry.c, 'base64');
      const expected = passwordCheck(salted, password);
      if (check.length !== expected.length || !timingSafeEqual(check, expected)) return undefined;
      return salted;
    },
    async set(hash, salt, iterations, password, salted) {
      const entry: Entry = { s: salt.toString('base64'), i: iterations, k: salted.toString('base64'), c: passwordCheck(salted, password).toString('base64') };
      try {
        await secrets.setSecret(cacheKey(hash), JSON.stringify(entry));
      } catch (error) {
        onError(error);
      }
    },
  };
}
