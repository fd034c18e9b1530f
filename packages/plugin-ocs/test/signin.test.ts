/**
 * The user's story and the sign-in behaviours of issue 5, end to end through
 * Parley's core against the test OCS registrar (NTLMv2 over TLS, signed
 * messages, client-version policy).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, type ConfigError } from '@parley/core';
import { DEFAULT_USER_AGENT, USER_AGENT_PRESETS } from '../src/options.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import { until } from '../../../test/helpers/wait.js';
import { rejection, startParley, testCertificates, type TestParley } from './helpers.js';

const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';
const users = [{ address: 'me@company.com', login: 'me', password: 'S3cret!pass' }];
/** Like the user's server: only Office Communicator and Lync are admitted. */
const policy = (ua: string) => /^UCCAPI\//.test(ua);

let server: OcsServer;
let t: TestParley;

beforeAll(async () => {
  const { key, cert } = testCertificates();
  server = await startOcsServer({ users, tls: { key, cert }, clientVersionPolicy: policy });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await t?.cleanup();
});

async function addAccount(settings: Record<string, unknown>, password = 'S3cret!pass', username = 'me@company.com') {
  return t.parley.accounts.add({
    protocol: 'ocs',
    username,
    settings: { login: 'me', server: `127.0.0.1:${server.port}`, transport: 'tls', sso: true, ...settings },
    secrets: { password },
  });
}

describe("the user's story: Office Communicator 2007 R2 User-Agent against a version policy", () => {
  it('with the default User-Agent: the exact 403 text, a hint about the User Agent setting, fatal, no reconnect loop', async () => {
    t = await startParley();
    const account = await addAccount({});
    const before = server.userAgents.length;
    const rejectedBefore = server.events.filter((e) => e.kind === 'rejected').length;
    const error = await rejection(t.parley.accounts.connect(account.id));
    expect(ConnectionError.is(error)).toBe(true);
    const e = error as ConnectionError;
    expect(e.reason).toBe('client-rejected');
    expect(e.fatal).toBe(true);
    expect(e.message).toBe('You have been rejected by the server: You are currently not using the recommended version of the client');
    expect(e.serverText).toBe('You are currently not using the recommended version of the client');
    expect(e.protocolDetail).toBe(403);
    expect(e.hint).toMatch(/User Agent.*useragent/);
    expect(e.hint).toContain('Office Communicator 2007 R2');
    expect(server.userAgents.slice(before).every((ua) => ua === DEFAULT_USER_AGENT)).toBe(true);
    const status = t.parley.accounts.status(account.id);
    expect(status.state).toBe('error');
    expect(status.error?.reason).toBe('client-rejected');
    // No retry storm: the core schedules no retry after a fatal error, and once the attempt's
    // connection is closed nothing more can reach the server: what it saw is all it will see.
    expect(status.nextAttemptAt).toBeUndefined();
    await until(() => server.openConnections === 0, 10_000, 'the rejected attempt to close its connection');
    expect(server.userAgents.slice(before).every((ua) => ua === DEFAULT_USER_AGENT)).toBe(true);
    expect(server.events.filter((e) => e.kind === 'rejected').length).toBe(rejectedBefore + 1);
    expect(t.parley.accounts.status(account.id).state).toBe('error');
  });

  it('with the Communicator 2007 R2 preset: signed in over NTLM and TLS, then signs off with Expires: 0', async () => {
    t = await startParley();
    expect(USER_AGENT_PRESETS.map((p) => p.value)).toContain(OC_2007_R2);
    const account = await addAccount({ useragent: OC_2007_R2 });
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(server.userAgents.at(-1)).toBe(OC_2007_R2);
    expect(server.events.some((e) => e.kind === 'authenticated' && e.detail === 'me@company.com')).toBe(true);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
    const deregisteredBefore = server.events.filter((e) => e.kind === 'deregistered').length;
    await t.parley.accounts.disconnect(account.id);
    expect(server.events.filter((e) => e.kind === 'deregistered').length).toBe(deregisteredBefore + 1);
  });
});

describe('User Agent', () => {
  it('accepts free text besides the presets, and sends it on every request', async () => {
    t = await startParley();
    const custom = 'UCCAPI/16.0.5000.1000 OC/16.0.5000.1000 (Skype for Business)';
    const account = await addAccount({ useragent: custom });
    const before = server.userAgents.length;
    await t.parley.accounts.connect(account.id);
    const seen = server.userAgents.slice(before);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen)).toEqual(new Set([custom]));
  });
});

describe('sign-in failures', () => {
  it('a wrong password: authentication-failed, fatal, one AUTHENTICATE attempt only', async () => {
    t = await startParley();
    const account = await addAccount({ useragent: OC_2007_R2 }, 'wrong-password');
    const before = server.events.filter((e) => e.kind === 'bad-password').length;
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-failed');
    expect(error.fatal).toBe(true);
    // No retry is scheduled, and with the attempt's connection closed no other AUTHENTICATE can come.
    expect(t.parley.accounts.status(account.id).state).toBe('error');
    expect(t.parley.accounts.status(account.id).nextAttemptAt).toBeUndefined();
    await until(() => server.openConnections === 0, 10_000, 'the failed attempt to close its connection');
    expect(server.events.filter((e) => e.kind === 'bad-password').length).toBe(before + 1);
    expect(t.parley.accounts.status(account.id).state).toBe('error');
  });

  it('an unknown sign-in address: invalid-username with the server diagnostics', async () => {
    t = await startParley();
    const account = await addAccount({ useragent: OC_2007_R2 }, 'S3cret!pass', 'someone.else@company.com');
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('invalid-username');
    expect(error.message).toBe('Not found: Destination URI either not enabled for SIP or does not exist');
  });

  it('a sign-in address that is not user@domain is refused before any network traffic', async () => {
    t = await startParley();
    const connections = server.connections;
    const error = (await rejection(addAccount({}, 'x', 'not-an-address'))) as ConfigError;
    expect(error.code).toBe('invalid-settings');
    expect(error.field).toBe('username');
    expect(error.message).toBe('The sign-in address must look like user@company.com');
    expect(t.parley.accounts.list()).toEqual([]);
    expect(server.connections).toBe(connections);
  });
});

describe('signed sessions', () => {
  it('re-REGISTERs (signed) before the registration expires', async () => {
    const { key, cert } = testCertificates();
    const shortLived = await startOcsServer({ users, tls: { key, cert }, expires: 12 });
    try {
      t = await startParley();
      const account = await t.parley.accounts.add({
        protocol: 'ocs',
        username: 'me@company.com',
        settings: { login: 'me', server: `127.0.0.1:${shortLived.port}`, transport: 'tls' },
        secrets: { password: 'S3cret!pass' },
      });
      await t.parley.accounts.connect(account.id);
      await expect.poll(() => shortLived.events.filter((e) => e.kind === 'registered').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      // The refresh went over the signed session: no new handshake, no bad signature.
      expect(shortLived.events.filter((e) => e.kind === 'authenticated').length).toBe(1);
      expect(shortLived.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
      expect(t.parley.accounts.status(account.id).state).toBe('online');
    } finally {
      await shortLived.close();
    }
  });

  it('a refresh the server challenges runs one new handshake and stays online', async () => {
    const { key, cert } = testCertificates();
    const forgetful = await startOcsServer({ users, tls: { key, cert }, expires: 12, forgetSessions: true });
    try {
      t = await startParley();
      const account = await t.parley.accounts.add({
        protocol: 'ocs',
        username: 'me@company.com',
        settings: { login: 'me', server: `127.0.0.1:${forgetful.port}` },
        secrets: { password: 'S3cret!pass' },
      });
      await t.parley.accounts.connect(account.id);
      await expect.poll(() => forgetful.events.filter((e) => e.kind === 'authenticated').length, { timeout: 15_000 }).toBe(2);
      await expect.poll(() => forgetful.events.filter((e) => e.kind === 'registered').length).toBe(2);
      expect(t.parley.accounts.status(account.id).state).toBe('online');
    } finally {
      await forgetful.close();
    }
  });

  it('a tampered rspauth from the server is an error, not a sign-in', async () => {
    const { key, cert } = testCertificates();
    const tampering = await startOcsServer({ users, tls: { key, cert }, tamperRspauth: true });
    try {
      t = await startParley();
      const account = await t.parley.accounts.add({
        protocol: 'ocs',
        username: 'me@company.com',
        settings: { login: 'me', server: `127.0.0.1:${tampering.port}`, transport: 'tls' },
        secrets: { password: 'S3cret!pass' },
      });
      const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
      expect(ConnectionError.is(error)).toBe(true);
      expect(error.message).toMatch(/Invalid message signature/);
      expect(t.parley.accounts.status(account.id).state).not.toBe('online');
    } finally {
      await tampering.close();
    }
  });

  it('a deregistration NOTIFY signs the account off with the matching message', async () => {
    t = await startParley();
    const account = await addAccount({ useragent: OC_2007_R2 });
    await t.parley.accounts.connect(account.id);
    expect(await server.deregister('me@company.com', 'unregistered')).toBeGreaterThanOrEqual(1);
    await expect.poll(() => t.parley.accounts.status(account.id).error?.reason).toBe('signed-in-elsewhere');
    expect(t.parley.accounts.status(account.id).error?.message).toBe('You have been signed off: you are already signed in at another location');
    expect(t.parley.accounts.status(account.id).state).toBe('error');
  });

  it('follows a 301 to the home server', async () => {
    const { key, cert } = testCertificates();
    const home = await startOcsServer({ users, tls: { key, cert } });
    const director = await startOcsServer({ users, tls: { key, cert }, redirectTo: { host: '127.0.0.1', port: home.port } });
    try {
      t = await startParley();
      const account = await t.parley.accounts.add({
        protocol: 'ocs',
        username: 'me@company.com',
        settings: { login: 'me', server: `127.0.0.1:${director.port}` },
        secrets: { password: 'S3cret!pass' },
      });
      await t.parley.accounts.connect(account.id);
      expect(t.parley.accounts.status(account.id).state).toBe('online');
      expect(director.events.some((e) => e.kind === 'authenticated')).toBe(true);
      expect(director.events.some((e) => e.kind === 'registered')).toBe(false);
      expect(home.events.some((e) => e.kind === 'registered')).toBe(true);
    } finally {
      await director.close();
      await home.close();
    }
  });
});

describe('connection trouble', () => {
  it('a dropped connection after sign-in is reported and the core signs in again', async () => {
    t = await startParley();
    const account = await addAccount({ useragent: OC_2007_R2 });
    await t.parley.accounts.connect(account.id);
    const registered = server.events.filter((e) => e.kind === 'registered').length;
    const states: string[] = [];
    t.parley.events.on('accountStatusChanged', (_account, status) => states.push(status.state));
    server.dropConnections();
    await expect.poll(() => server.events.filter((e) => e.kind === 'registered').length, { timeout: 10_000 }).toBe(registered + 1);
    await expect.poll(() => t.parley.accounts.status(account.id).state).toBe('online');
    expect(states).toContain('reconnecting');
    expect(t.parley.accounts.status(account.id).error).toBeUndefined();
  });

  it("an untrusted certificate is shown to the user, and accepted it is remembered", async () => {
    const asked: string[] = [];
    const ui = new RecordingUi((request) => {
      if (request.kind === 'confirm') {
        asked.push(request.details?.['SHA-256 fingerprint'] ?? '');
        return true;
      }
      return undefined;
    });
    t = await startParley({}, undefined, { ui, trustTestCa: false });
    const account = await addAccount({ useragent: OC_2007_R2 });
    await t.parley.accounts.connect(account.id);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await t.parley.accounts.disconnect(account.id);
    await t.parley.accounts.connect(account.id);
    expect(asked).toHaveLength(1);
  });

  it('an untrusted certificate the user refuses is a certificate error', async () => {
    t = await startParley({}, undefined, { ui: new RecordingUi(() => false), trustTestCa: false });
    const account = await addAccount({ useragent: OC_2007_R2 });
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('certificate-untrusted');
    expect(error.fatal).toBe(true);
  });
});

describe('an unhealthy server', () => {
  it('503 during sign-in is a network error the core retries', async () => {
    const { key, cert } = testCertificates();
    const busy = await startOcsServer({ users, tls: { key, cert }, failRegisterWith: { status: 503, reason: 'Service Unavailable', headers: ['ms-diagnostics: 1008;reason="Unable to resolve DNS SRV record";source="pool"'] } });
    try {
      t = await startParley();
      const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'me@company.com', settings: { login: 'me', server: `127.0.0.1:${busy.port}` }, secrets: { password: 'S3cret!pass' } });
      const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
      expect(error.reason).toBe('network');
      expect(error.fatal).toBe(false);
      expect(error.message).toBe('Service unavailable: Unable to resolve DNS SRV record');
      // The core schedules another attempt, and it reaches the server again.
      const attempts = busy.connections;
      await expect.poll(() => busy.connections, { timeout: 10_000 }).toBeGreaterThan(attempts);
    } finally {
      await busy.close();
    }
  });

  it('a server that stalls mid-handshake: a bounded wait and a network error', async () => {
    const { key, cert } = testCertificates();
    const stalled = await startOcsServer({ users, tls: { key, cert }, stallOnAuthenticate: true });
    try {
      t = await startParley({ requestTimeoutMs: 1000 });
      const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'me@company.com', settings: { login: 'me', server: `127.0.0.1:${stalled.port}` }, secrets: { password: 'S3cret!pass' } });
      const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
      expect(error.reason).toBe('network');
      expect(error.message).toBe('The server did not answer the sign-in request');
    } finally {
      await stalled.close();
    }
  });
});
