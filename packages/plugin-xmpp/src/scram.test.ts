import { describe, expect, it } from 'vitest';
import { deriveSaltedPassword, parseServerFinal, parseServerFirst, ScramClient, ScramError, type SaltedPasswordCache, type ScramHash } from './scram.js';
import { cacheKey, secretStoreCache } from './scram-cache.js';

// RFC 5802 §5 and RFC 7677 §3: the published example exchanges (user "user", password "pencil").
const RFC5802 = {
  nonce: 'fyko+d2lbbFgONRv9qkxdawL',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};
const RFC7677 = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function memoryCache(): SaltedPasswordCache & { secrets: Map<string, string> } {
  const secrets = new Map<string, string>();
  const cache = secretStoreCache({ getSecret: async (k) => secrets.get(k), setSecret: async (k, v) => void secrets.set(k, v) });
  return Object.assign(cache, { secrets });
}

function countingDerive() {
  const calls: Array<{ iterations: number; hash: ScramHash }> = [];
  const derive: typeof deriveSaltedPassword = (password, salt, iterations, hash) => {
    calls.push({ iterations, hash });
    return deriveSaltedPassword(password, salt, iterations, hash);
  };
  return { calls, derive };
}

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof ScramError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('SCRAM client', () => {
  it('produces the RFC 5802 §5 SCRAM-SHA-1 exchange and accepts its server signature', async () => {
    const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => RFC5802.nonce });
    expect(scram.clientFirst('user')).toBe(RFC5802.clientFirst);
    expect(await scram.clientFinal(RFC5802.serverFirst, 'pencil')).toBe(RFC5802.clientFinal);
    scram.verifyServerFinal(RFC5802.serverFinal);
    expect(scram.verified).toBe(true);
  });

  it('produces the RFC 7677 §3 SCRAM-SHA-256 exchange and accepts its server signature', async () => {
    const scram = new ScramClient('SCRAM-SHA-256', { nonce: () => RFC7677.nonce });
    expect(scram.clientFirst('user')).toBe(RFC7677.clientFirst);
    expect(await scram.clientFinal(RFC7677.serverFirst, 'pencil')).toBe(RFC7677.clientFinal);
    scram.verifyServerFinal(RFC7677.serverFinal);
    expect(scram.verified).toBe(true);
  });

  it('refuses a server signature that differs in one bit, or one of the wrong length', async () => {
    for (const tampered of ['v=rmF9pqV8S7suAoZWja4dJRkFsKU=', 'v=rmF9pqV8S7suAoZWja4dJRkF', 'v=' + Buffer.from(RFC7677.serverFinal.slice(2), 'base64').toString('base64')]) {
      const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => RFC5802.nonce });
      scram.clientFirst('user');
      await scram.clientFinal(RFC5802.serverFirst, 'pencil');
      expect(await codeOf(() => scram.verifyServerFinal(tampered))).toBe('server-signature-mismatch');
      expect(scram.verified).toBe(false);
    }
  });

  it('reports a server error (e=) and a missing verifier clearly', async () => {
    const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => RFC5802.nonce });
    scram.clientFirst('user');
    await scram.clientFinal(RFC5802.serverFirst, 'pencil');
    expect(await codeOf(() => scram.verifyServerFinal('e=invalid-proof'))).toBe('server-error');
    expect(await codeOf(() => scram.verifyServerFinal('x=1'))).toBe('malformed-server-final');
    expect(await codeOf(() => scram.verifyServerFinal(''))).toBe('malformed-server-final');
  });

  it('escapes "=" and "," in the user name (RFC 5802 §5.1)', () => {
    const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => 'abc' });
    expect(scram.clientFirst('a=b,c')).toBe('n,,n=a=3Db=2Cc,r=abc');
  });

  it('refuses steps out of order', async () => {
    const scram = new ScramClient('SCRAM-SHA-256');
    expect(await codeOf(() => scram.verifyServerFinal(RFC7677.serverFinal))).toBe('out-of-order');
    expect(await codeOf(scram.clientFinal(RFC7677.serverFirst, 'pencil'))).toBe('out-of-order');
    scram.clientFirst('user');
    expect(await codeOf(() => scram.clientFirst('user'))).toBe('out-of-order');
  });
});

describe('hostile server-first messages', () => {
  const cases: Array<[string, string]> = [
    ['', 'malformed-server-first'],
    ['garbage', 'malformed-server-first'],
    ['r=abcdef', 'malformed-server-first'],
    ['s=QSXCR+Q6sek8bf92,r=abcdef,i=4096', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92', 'malformed-server-first'],
    ['r=abcdef,s=not base64!,i=4096', 'malformed-server-first'],
    ['r=abcdef,s=,i=4096', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=-1', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=4096.5', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=0x1000', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=1', 'iterations-out-of-range'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=99999999999', 'malformed-server-first'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=2000000000', 'iterations-out-of-range'],
    ['r=zzzdef,s=QSXCR+Q6sek8bf92,i=4096', 'nonce-mismatch'],
    ['r=abc,s=QSXCR+Q6sek8bf92,i=4096', 'nonce-mismatch'],
    ['r=abc de,s=QSXCR+Q6sek8bf92,i=4096', 'malformed-server-first'],
    ['m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096', 'mandatory-extension'],
    ['r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,' + 'x='.padEnd(9000, 'a'), 'malformed-server-first'],
  ];
  it.each(cases)('%j → %s', async (message, code) => {
    expect(await codeOf(() => parseServerFirst(message, 'abc'))).toBe(code);
  });

  it('accepts extensions after the iteration count', () => {
    expect(parseServerFirst('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=ext', 'abc')).toMatchObject({ nonce: 'abcdef', iterations: 4096 });
  });

  it('a bad server-first never reaches key derivation', async () => {
    const { calls, derive } = countingDerive();
    const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => 'abc', derive });
    scram.clientFirst('user');
    expect(await codeOf(scram.clientFinal('r=abcdef,s=QSXCR+Q6sek8bf92,i=2000000000', 'pencil'))).toBe('iterations-out-of-range');
    expect(calls).toEqual([]);
  });

  it('parses server-final verifiers and errors', () => {
    expect(parseServerFinal('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')).toEqual({ verifier: Buffer.from('rmF9pqV8S7suAoZWja4dJRkFsKQ=', 'base64') });
    expect(parseServerFinal('e=other-error,x=1')).toEqual({ error: 'other-error' });
  });
});

describe('salted password cache', () => {
  it('a second exchange with the same salt and count derives no key, and still proves the same', async () => {
    const cache = memoryCache();
    const { calls, derive } = countingDerive();
    const first = new ScramClient('SCRAM-SHA-256', { nonce: () => RFC7677.nonce, cache, derive });
    first.clientFirst('user');
    await first.clientFinal(RFC7677.serverFirst, 'pencil');
    expect(first.fromCache).toBe(false);
    expect(calls).toHaveLength(1);
    // Nothing is written during the exchange; the connection keeps the key once the sign-in is done, once.
    expect(cache.secrets.size).toBe(0);
    await first.keep();
    await first.keep();
    expect([...cache.secrets.keys()]).toEqual([cacheKey('sha256')]);
    // The stored entry holds no plaintext password.
    expect(cache.secrets.get(cacheKey('sha256'))).not.toContain('pencil');

    const second = new ScramClient('SCRAM-SHA-256', { nonce: () => RFC7677.nonce, cache, derive });
    second.clientFirst('user');
    expect(await second.clientFinal(RFC7677.serverFirst, 'pencil')).toBe(RFC7677.clientFinal);
    second.verifyServerFinal(RFC7677.serverFinal);
    expect(second.fromCache).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('a new salt, a new count or a changed password derives again', async () => {
    const cache = memoryCache();
    const { calls, derive } = countingDerive();
    const run = async (serverFirst: string, password: string) => {
      const scram = new ScramClient('SCRAM-SHA-256', { nonce: () => RFC7677.nonce, cache, derive });
      scram.clientFirst('user');
      await scram.clientFinal(serverFirst, password);
      await scram.keep();
      return scram.fromCache;
    };
    expect(await run(RFC7677.serverFirst, 'pencil')).toBe(false);
    expect(await run(RFC7677.serverFirst.replace('s=W22ZaJ0SNY7soEsUEjb6gQ==', 's=AAAAAAAAAAAAAAAAAAAAAA=='), 'pencil')).toBe(false);
    expect(await run(RFC7677.serverFirst.replace('i=4096', 'i=5000'), 'pencil')).toBe(false);
    expect(await run(RFC7677.serverFirst.replace('i=4096', 'i=5000'), 'pen')).toBe(false);
    expect(await run(RFC7677.serverFirst.replace('i=4096', 'i=5000'), 'pen')).toBe(true);
    expect(calls).toHaveLength(4);
  });

  it('a damaged cache entry or an unreadable store costs a derivation, not the sign-in', async () => {
    for (const raw of ['not json', '{"s":1}', 'null']) {
      const cache = secretStoreCache({ getSecret: async () => raw, setSecret: async () => {} });
      const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => RFC5802.nonce, cache });
      scram.clientFirst('user');
      expect(await scram.clientFinal(RFC5802.serverFirst, 'pencil')).toBe(RFC5802.clientFinal);
      expect(scram.fromCache).toBe(false);
    }
    const errors: unknown[] = [];
    const broken = secretStoreCache(
      {
        getSecret: async () => {
          throw new Error('locked');
        },
        setSecret: async () => {
          throw new Error('locked');
        },
      },
      (error) => errors.push(error),
    );
    const scram = new ScramClient('SCRAM-SHA-1', { nonce: () => RFC5802.nonce, cache: broken });
    scram.clientFirst('user');
    expect(await scram.clientFinal(RFC5802.serverFirst, 'pencil')).toBe(RFC5802.clientFinal);
    await scram.keep();
    expect(errors).toHaveLength(2);
  });
});
