/**
 * The GSS-API binding against a real MIT KDC: a context between the
 * initiator (password or ticket cache) and the acceptor (keytab), MICs both
 * ways, a tampered message refused, and the failures a user can meet, each
 * with the library's own text.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/servers/process.js';
import { startKerberosRealm, type KerberosRealm } from '../../../test/servers/kerberos.js';
import { GSS_C_INTEG_FLAG, GSS_C_MUTUAL_FLAG, GssAcceptor, GssCredential, GssInitiator, KerberosError } from '../src/auth/gssapi.js';

let realm: KerberosRealm;
let scratch: string;
const saved = { KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5CCNAME: process.env.KRB5CCNAME };

beforeAll(async () => {
  realm = await startKerberosRealm({ users: [{ name: 'alice', password: 'alice-pw' }], services: ['sip/ocs.example.test'] });
  process.env.KRB5_CONFIG = realm.krb5Conf;
  scratch = mkdtempSync(join(tmpdir(), 'parley-gss-'));
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  await realm?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function handshake(credential: GssCredential, flags: number) {
  const acceptorCred = GssCredential.fromKeytab(realm.keytab);
  const client = new GssInitiator(credential, 'sip/ocs.example.test', flags);
  const server = new GssAcceptor(acceptorCred);
  const apReq = await client.step();
  expect(apReq).toBeDefined();
  const apRep = server.step(apReq!);
  if (apRep) await client.step(apRep);
  return { client, server, apRep, dispose: () => (client.dispose(), server.dispose(), acceptorCred.release()) };
}

async function failure(run: () => Promise<unknown>): Promise<KerberosError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(KerberosError);
    return error as KerberosError;
  }
  throw new Error('expected a KerberosError');
}

describe('GSS-API binding (libgssapi_krb5 through koffi) against a real KDC', () => {
  it('establishes a mutually authenticated context with a password, without touching the ticket cache', async () => {
    const cache = join(scratch, 'untouched');
    process.env.KRB5CCNAME = `FILE:${cache}`;
    const credential = await GssCredential.withPassword(`alice@${realm.realm}`, 'alice-pw');
    const { client, server, apRep, dispose } = await handshake(credential, GSS_C_MUTUAL_FLAG | GSS_C_INTEG_FLAG);
    expect(apRep).toBeDefined();
    expect(client.complete && server.complete).toBe(true);
    expect(client.grantedFlags & GSS_C_MUTUAL_FLAG).toBe(GSS_C_MUTUAL_FLAG);
    expect(server.initiator).toBe(`alice@${realm.realm}`);
    const text = Buffer.from('<Kerberos><01020304><1><SIP Communications Service>');
    expect(server.verifyMic(text, client.getMic(text))).toBe(true);
    expect(client.verifyMic(text, server.getMic(text))).toBe(true);
    // A changed message or signature is refused both ways.
    const tampered = Buffer.from(text.toString().replace('<1>', '<2>'));
    expect(server.verifyMic(tampered, client.getMic(text))).toBe(false);
    const mic = server.getMic(text);
    mic[mic.length - 1]! ^= 1;
    expect(client.verifyMic(text, mic)).toBe(false);
    expect(existsSync(cache)).toBe(false);
    dispose();
    credential.release();
  });

  it('uses the ticket from the cache kinit filled (single sign-on); no AP-REP without mutual authentication', async () => {
    const cache = join(scratch, 'sso');
    await realm.kinit('alice', 'alice-pw', cache);
    process.env.KRB5CCNAME = `FILE:${cache}`;
    const credential = await GssCredential.fromTicketCache();
    expect(credential.lifetime).toBeGreaterThan(0);
    const { client, server, apRep, dispose } = await handshake(credential, GSS_C_INTEG_FLAG);
    expect(apRep).toBeUndefined();
    expect(client.complete && server.complete).toBe(true);
    const text = Buffer.from('signed');
    expect(server.verifyMic(text, client.getMic(text))).toBe(true);
    dispose();
    credential.release();
  });

  it('names each failure: no ticket, wrong password, unknown user, unknown service, expired ticket, KDC unreachable', async () => {
    process.env.KRB5CCNAME = `FILE:${join(scratch, 'none')}`;
    const noTicket = await failure(async () => {
      const c = await GssCredential.fromTicketCache();
      await new GssInitiator(c, 'sip/ocs.example.test', GSS_C_INTEG_FLAG).step();
    });
    expect(noTicket.failure).toBe('no-ticket');
    expect(noTicket.status?.majorText).toMatch(/No credentials were supplied/i);

    const wrong = await failure(() => GssCredential.withPassword(`alice@${realm.realm}`, 'nope'));
    expect(wrong.failure).toBe('wrong-password');
    expect(wrong.status?.operation).toBe('gss_acquire_cred_with_password');

    const unknownUser = await failure(() => GssCredential.withPassword(`mallory@${realm.realm}`, 'x'));
    expect(unknownUser.failure).toBe('unknown-user');

    const credential = await GssCredential.withPassword(`alice@${realm.realm}`, 'alice-pw');
    const unknownService = await failure(() => new GssInitiator(credential, 'sip/other.example.test', GSS_C_INTEG_FLAG).step());
    expect(unknownService.failure).toBe('unknown-service');
    expect(unknownService.message).toMatch(/not found in Kerberos database/i);
    credential.release();

    // An expired ticket in the cache.
    const cache = join(scratch, 'short');
    await realm.kinit('alice', 'alice-pw', cache, { lifetime: '2s' });
    process.env.KRB5CCNAME = `FILE:${cache}`;
    await expect.poll(() => spawnSync('klist', ['-s', '-c', `FILE:${cache}`]).status, { timeout: 10_000, interval: 200 }).not.toBe(0);
    const expired = await failure(async () => {
      const c = await GssCredential.fromTicketCache();
      await new GssInitiator(c, 'sip/ocs.example.test', GSS_C_INTEG_FLAG).step();
    });
    expect(expired.failure).toBe('ticket-expired');

    // Nobody listens on the KDC's port.
    const saved = readFileSync(realm.krb5Conf, 'utf8');
    const dead = await freePort();
    writeFileSync(join(scratch, 'dead.conf'), saved.replace(`127.0.0.1:${realm.port}`, `127.0.0.1:${dead}`));
    process.env.KRB5_CONFIG = join(scratch, 'dead.conf');
    const unreachable = await failure(() => GssCredential.withPassword(`alice@${realm.realm}`, 'alice-pw'));
    process.env.KRB5_CONFIG = realm.krb5Conf;
    expect(unreachable.message).toMatch(/Cannot contact any KDC/);
    expect(unreachable.failure).toBe('kdc-unreachable');
  });
});
