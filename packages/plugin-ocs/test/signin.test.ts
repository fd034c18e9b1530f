/**
 * The user's story and the sign-in behaviours of issue 5, end to end through
 * Parley's core against the test OCS registrar (NTLMv2 over TLS, signed
 * messages, client-version policy).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '@parley/core';
import { DEFAULT_USER_AGENT, USER_AGENT_PRESETS } from '../src/index.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
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
    // No retry storm: several reconnect delays later nothing more arrived.
    const seen = server.userAgents.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(server.userAgents.length).toBe(seen);
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
