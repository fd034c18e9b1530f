/**
 * A standard SIP registrar (Kamailio) with Digest authentication: the plugin
 * registers, re-uses the answer, and reports a wrong password as such.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '@parley/core';
import { startKamailio, type Kamailio } from '../../../test/servers/kamailio.js';
import { rejection, startParley, type TestParley } from './helpers.js';

let kamailio: Kamailio;
let t: TestParley | undefined;

beforeAll(async () => {
  kamailio = await startKamailio({ users: { alice: 'kama-secret' }, domain: 'example.test' });
});
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});
afterAll(async () => {
  await kamailio?.stop();
});

async function account(authentication: string, password: string) {
  return t!.parley.accounts.add({
    protocol: 'ocs',
    username: 'alice@example.test',
    settings: { server: `127.0.0.1:${kamailio.port}`, transport: 'tcp', authentication },
    secrets: { password },
  });
}

describe('Kamailio registrar with Digest', () => {
  it.each(['digest', 'auto'])('registers with authentication=%s', async (authentication) => {
    t = await startParley();
    const a = await account(authentication, 'kama-secret');
    await t.parley.accounts.connect(a.id);
    expect(t.parley.accounts.status(a.id).state).toBe('online');
    await expect.poll(() => kamailio.log()).toMatch(/registered sip:alice@example\.test/);
    await t.parley.accounts.disconnect(a.id);
    await expect.poll(() => kamailio.log()).toMatch(/registered sip:alice@example\.test expires 0/);
  });

  it('reports a wrong password as authentication-failed after one answer', async () => {
    t = await startParley();
    const a = await account('digest', 'wrong');
    const error = (await rejection(t.parley.accounts.connect(a.id))) as ConnectionError;
    expect(ConnectionError.is(error) && error.reason).toBe('authentication-failed');
    expect(error.fatal).toBe(true);
  });

  it('NTLM against a Digest-only registrar says so', async () => {
    t = await startParley();
    const a = await account('ntlm', 'kama-secret');
    const error = (await rejection(t.parley.accounts.connect(a.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-impossible');
    expect(error.message).toMatch(/does not offer NTLM.*Digest/);
  });
});
