import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError } from '@parley/core';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { harness, type Harness } from './helpers.js';
import { startScramServer, type ScramServerOptions } from './scram-server.js';

function signIns(h: Harness) {
  return h.logs.filter((r) => r.message === 'SASL signed in').map((r) => r.data as { mechanism: string; scramKeyFromCache?: boolean });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('SCRAM against the real Prosody', () => {
  let plain: TestProsody;
  let hashed: TestProsody;
  beforeAll(async () => {
    [plain, hashed] = await Promise.all([
      // Offers SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN, with a fresh salt each time.
      startTestProsody({ users: { alice: 'alice-pw' } }),
      // Prosody's default storage: one salt per user, SCRAM-SHA-1 and PLAIN.
      startTestProsody({ users: { carol: 'carol-pw' }, authentication: 'internal_hashed' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), hashed?.stop()]);
  });

  it('signs in with SCRAM-SHA-256 and checks the server signature', async () => {
    const h = await harness(plain);
    try {
      const id = await h.account('alice', 'alice-pw', { resource: 'scram256' });
      await h.parley.accounts.connect(id);
      expect(signIns(h)).toEqual([{ mechanism: 'SCRAM-SHA-256', scramKeyFromCache: false }]);
    } finally {
      await h.close();
    }
  });

  it('signs in with SCRAM-SHA-1 where that is the strongest offered, and a reconnect derives no key (cached salted password)', async () => {
    const h = await harness(hashed);
    try {
      const id = await h.account('carol', 'carol-pw', { resource: 'scram1' });
      await h.parley.accounts.connect(id);
      await h.parley.accounts.disconnect(id);
      await h.parley.accounts.connect(id);
      expect(signIns(h)).toEqual([
        { mechanism: 'SCRAM-SHA-1', scramKeyFromCache: false },
        { mechanism: 'SCRAM-SHA-1', scramKeyFromCache: true },
      ]);
      // Kept in the secret store, which encrypts: neither the password nor the cache entry is readable on disk.
      await h.parley.shutdown();
      const files = filesUnder(h.home);
      expect(files.some((f) => f.endsWith('secrets.enc'))).toBe(true);
      for (const file of files) {
        const text = readFileSync(file, 'latin1');
        expect(text).not.toContain('carol-pw');
        expect(text).not.toContain('scram-salted-password');
      }
    } finally {
      await h.close();
    }
  });

  it('a wrong password with a cached salted password is still refused, and does not loop', async () => {
    const h = await harness(hashed);
    try {
      const id = await h.account('carol', 'carol-pw', { resource: 'scram1-wrong' });
      await h.parley.accounts.connect(id);
      await h.parley.accounts.disconnect(id);
      await h.parley.accounts.update(id, { secrets: { password: 'not-carols' } });
      const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e as ConnectionError);
      expect(error?.reason).toBe('authentication-failed');
      expect(h.parley.accounts.status(id).state).toBe('error');
      expect(signIns(h)).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});

describe('SCRAM against a server that lies', () => {
  async function signInTo(options: Omit<ScramServerOptions, 'password' | 'mechanism'> & { mechanism?: ScramServerOptions['mechanism'] }) {
    const server = await startScramServer({ password: 'right-pw', mechanism: 'SCRAM-SHA-1', ...options });
    const fake = { jid: (u: string) => `${u}@localhost`, host: '127.0.0.1', port: server.port } as unknown as TestProsody;
    const h = await harness(fake, { trustCa: false });
    try {
      const id = await h.account('alice', 'right-pw', { security: 'plain' });
      const error = await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e as ConnectionError);
      return { error, status: h.parley.accounts.status(id), server, logs: h.logs };
    } finally {
      await h.close();
      await server.close();
    }
  }

  it('the test server is faithful: an honest exchange signs in', async () => {
    // The stream stops after SASL (no resource binding), so the sign-in times out later; only SASL is checked here.
    const server = await startScramServer({ password: 'right-pw', mechanism: 'SCRAM-SHA-256' });
    const fake = { jid: (u: string) => `${u}@localhost`, host: '127.0.0.1', port: server.port } as unknown as TestProsody;
    const h = await harness(fake, { trustCa: false });
    try {
      const id = await h.account('alice', 'right-pw', { security: 'plain' });
      void h.parley.accounts.connect(id).catch(() => {});
      for (let i = 0; i < 200 && server.restartsAfterSuccess === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(server.proofs).toEqual([true]);
      expect(server.restartsAfterSuccess).toBe(1);
      expect(signIns(h)).toEqual([{ mechanism: 'SCRAM-SHA-256', scramKeyFromCache: false }]);
    } finally {
      await h.close();
      await server.close();
    }
  });

  it('a wrong server signature in <success/> fails the sign-in, fatally, before the stream goes on', async () => {
    const { error, status, server } = await signInTo({ serverFinal: () => 'v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
    expect(server.proofs).toEqual([true]);
    expect(error?.reason).toBe('authentication-impossible');
    expect(error?.protocolDetail).toBe('server-signature-mismatch');
    expect(status.state).toBe('error');
    expect(server.restartsAfterSuccess).toBe(0);
  });

  it('a wrong server signature sent as a last challenge fails the sign-in too', async () => {
    const { error, server } = await signInTo({ mechanism: 'SCRAM-SHA-256', finalIn: 'challenge', serverFinal: (honest) => honest.slice(0, -4) + 'AAA=' });
    expect(error?.reason).toBe('authentication-impossible');
    expect(server.restartsAfterSuccess).toBe(0);
  });

  it('a <success/> without the server signature fails the sign-in', async () => {
    const { error, server } = await signInTo({ serverFinal: () => '' });
    expect(error?.reason).toBe('authentication-impossible');
    expect(server.restartsAfterSuccess).toBe(0);
  });

  it('malformed server-first messages are clear errors, never a crash', async () => {
    const cases: Array<[ScramServerOptions['serverFirst'], string]> = [
      [() => 'garbage', 'malformed-server-first'],
      [(_n, honest) => honest.replace(/,i=\d+/, ',i=1'), 'iterations-out-of-range'],
      [(_n, honest) => honest.replace(/^r=/, 'r=X'), 'nonce-mismatch'],
      [(_n, honest) => honest.replace(/,s=[^,]*/, ',s=*not*base64*'), 'malformed-server-first'],
    ];
    for (const [serverFirst, code] of cases) {
      const { error, server } = await signInTo({ serverFirst });
      expect(error?.reason).toBe('authentication-impossible');
      expect(error?.message).toMatch(/SCRAM/);
      expect(error?.protocolDetail).toBe(code);
      expect(server.proofs).toEqual([]);
    }
  });
});
