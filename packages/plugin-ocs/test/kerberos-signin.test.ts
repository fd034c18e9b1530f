/**
 * Kerberos and single sign-on ([MS-SIPAE] 3.2.2 Kerberos) end to end through
 * Parley's core, against a real MIT KDC and the test OCS registrar accepting
 * with the service's keytab through the real GSS-API: sign-in with the
 * password and with the ticket from kinit, mutual authentication, signed
 * messages both ways, re-authentication when the server drops the security
 * context, and each failure with its reason and hint.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError } from '@parley/core';
// The store itself, not exported: to read what the running Parley wrote with the helpers' passphrase.
import { EncryptedFileSecretStore } from '../../core/src/secrets/encrypted-file-store.js';
import { startKerberosRealm, type KerberosRealm } from '../../../test/servers/kerberos.js';
import { freePort } from '../../../test/servers/process.js';
import * as tls from 'node:tls';
import type { OcsConnection } from '../src/connection.js';
import { GSS_C_INTEG_FLAG, GssCredential, GssInitiator } from '../src/auth/gssapi.js';
import { messageFields, signatureString } from '../src/signing.js';
import { parseRawMessage } from '../src/sip/headers.js';
import { SipFramer } from '../src/transport/framer.js';
import { startOcsServer, type OcsServer, type OcsServerOptions } from './ocs-server/server.js';
import { rejection, startParley, testCertificates, type TestParley } from './helpers.js';

const REALM = 'EXAMPLE.TEST';
const users = [
  { address: 'alice@example.test', login: 'EXAMPLE\\alice', password: 'alice-pw' },
  { address: 'bob@example.test', login: 'EXAMPLE\\bob', password: 'bob-pw' },
];

let realm: KerberosRealm;
let server: OcsServer;
let scratch: string;
let t: TestParley | undefined;
const extraServers: OcsServer[] = [];
const saved = { KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5CCNAME: process.env.KRB5CCNAME };

async function ocsServer(options: Partial<OcsServerOptions> = {}): Promise<OcsServer> {
  const { key, cert } = testCertificates();
  return startOcsServer({ users, tls: { key, cert }, targetName: 'ocs.example.test', kerberos: { keytab: realm.keytab, realm: REALM }, ...options });
}

beforeAll(async () => {
  realm = await startKerberosRealm({
    realm: REALM,
    users: users.map((u) => ({ name: u.login.split('\\')[1]!, password: u.password })),
    services: ['sip/ocs.example.test'],
  });
  process.env.KRB5_CONFIG = realm.krb5Conf;
  scratch = mkdtempSync(join(tmpdir(), 'parley-krb-signin-'));
  server = await ocsServer();
});
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
  while (extraServers.length) await extraServers.pop()!.close();
});
afterAll(async () => {
  await server?.close();
  await realm?.stop();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  rmSync(scratch, { recursive: true, force: true });
});

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? allFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}
function findFile(dir: string, name: string): string | undefined {
  return allFiles(dir).find((file) => file.endsWith(`/${name}`));
}

/** A private ticket cache for this test; nothing in it until kinit fills it. */
function ticketCache(name: string): string {
  const path = join(scratch, name);
  process.env.KRB5CCNAME = `FILE:${path}`;
  return path;
}

async function addAccount(settings: Record<string, unknown>, password: string | undefined, on = server) {
  return t!.parley.accounts.add({
    protocol: 'ocs',
    username: 'alice@example.test',
    settings: { login: 'EXAMPLE\\alice', server: `127.0.0.1:${on.port}`, transport: 'tls', ...settings },
    ...(password !== undefined ? { secrets: { password } } : {}),
  });
}

const count = (s: OcsServer, kind: string) => s.events.filter((e) => e.kind === kind).length;

describe('Kerberos sign-in against a real KDC', () => {
  it('with the password: mutual authentication, every message signed and verified, the user ticket cache untouched', async () => {
    const cache = ticketCache('password-only');
    const connections: OcsConnection[] = [];
    t = await startParley({}, undefined, { connections });
    const mutual = count(server, 'kerberos-mutual');
    const account = await addAccount({ authentication: 'kerberos', sso: false }, 'alice-pw');
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(connections.at(-1)?.authenticationScheme).toBe('Kerberos');
    expect(t.parley.accounts.status(account.id).detail).toBe('Kerberos, TLS');
    // The AP-REP came back in a 401 and the client completed the context with it.
    expect(count(server, 'kerberos-mutual')).toBe(mutual + 1);
    // After sign-in the session subscribes: signed requests the server checked with gss_verify_mic.
    await expect.poll(() => count(server, 'request'), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
    expect(existsSync(cache)).toBe(false);
  });

  it('with single sign-on after kinit (authentication=auto): no password asked for or stored', async () => {
    const cache = ticketCache('sso');
    await realm.kinit('alice', 'alice-pw', cache);
    const before = readFileSync(cache);
    const connections: OcsConnection[] = [];
    t = await startParley({}, undefined, { connections });
    const account = await addAccount({ authentication: 'auto', sso: true }, undefined);
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(connections.at(-1)?.authenticationScheme).toBe('Kerberos');
    // Nothing in the secret store for the account, and no password anywhere in Parley's files.
    const secretsFile = findFile(t.home, 'secrets.enc');
    if (secretsFile) expect(await new EncryptedFileSecretStore(secretsFile, async () => 'test').keys(account.id)).toEqual([]);
    for (const file of allFiles(t.home)) expect(readFileSync(file).includes('alice-pw'), file).toBe(false);
    // The service ticket was added to the user's own cache, as any Kerberos client does.
    expect(readFileSync(cache).length).toBeGreaterThan(before.length);
  });

  it('auto with a password prefers Kerberos when the server offers it, as pidgin-sipe does', async () => {
    ticketCache('auto-password');
    const connections: OcsConnection[] = [];
    t = await startParley({}, undefined, { connections });
    const account = await addAccount({ authentication: 'auto', sso: false }, 'alice-pw');
    await t.parley.accounts.connect(account.id);
    expect(connections.at(-1)?.authenticationScheme).toBe('Kerberos');
  });

  it('an expired security context: the server 401s the refresh and the client sends a fresh AP-REQ without asking anything', async () => {
    ticketCache('reauth');
    const forgetful = await ocsServer({ forgetSessions: true, expires: 2 });
    extraServers.push(forgetful);
    t = await startParley();
    const account = await addAccount({ authentication: 'kerberos', sso: false }, 'alice-pw', forgetful);
    await t.parley.accounts.connect(account.id);
    expect(count(forgetful, 'kerberos-mutual')).toBe(1);
    await expect.poll(() => count(forgetful, 'forgot-session'), { timeout: 15_000 }).toBeGreaterThan(0);
    await expect.poll(() => count(forgetful, 'kerberos-mutual'), { timeout: 15_000 }).toBeGreaterThan(1);
    await expect.poll(() => count(forgetful, 'registered'), { timeout: 15_000 }).toBeGreaterThan(1);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(forgetful.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it("a wrong server signature is an error, as with NTLM", async () => {
    ticketCache('tamper');
    const tampering = await ocsServer({ tamperRspauth: true });
    extraServers.push(tampering);
    t = await startParley();
    const account = await addAccount({ authentication: 'kerberos', sso: false }, 'alice-pw', tampering);
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.message).toMatch(/Invalid message signature/);
    expect(t.parley.accounts.status(account.id).state).not.toBe('online');
  });
});

describe('the test server checks Kerberos signatures with gss_verify_mic', () => {
  /** A REGISTER as pidgin-sipe sends it with Kerberos (no mutual authentication, version 4: signed). */
  async function registerWith(tamper: boolean): Promise<string> {
    const credential = await GssCredential.withPassword(`alice@${REALM}`, 'alice-pw');
    const context = new GssInitiator(credential, 'sip/ocs.example.test', GSS_C_INTEG_FLAG);
    const apReq = (await context.step())!.toString('base64');
    const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: testCertificates().caCert, servername: 'localhost' });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const framer = new SipFramer();
    const received: string[] = [];
    socket.on('data', (chunk: Buffer) => received.push(...framer.push(chunk)));
    const base = [
      'REGISTER sip:example.test SIP/2.0',
      'Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK1',
      'From: <sip:alice@example.test>;tag=a1b2c3;epid=01020304',
      'To: <sip:alice@example.test>',
      'Call-ID: kerberos-signature-test',
      'CSeq: 1 REGISTER',
      'Contact: <sip:127.0.0.1:5999;transport=tls>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>"',
      'Content-Length: 0',
    ];
    const text = [...base, '', ''].join('\r\n');
    const fields = { protocol: 'Kerberos', rand: '0a0b0c0d', num: '1', realm: 'SIP Communications Service', targetName: 'sip/ocs.example.test', ...messageFields(parseRawMessage(text)) };
    const mic = context.getMic(Buffer.from(signatureString(4, fields)));
    if (tamper) mic[mic.length - 1]! ^= 0x01;
    const authorization = `Authorization: Kerberos qop="auth", realm="SIP Communications Service", targetname="sip/ocs.example.test", gssapi-data="${apReq}", version=4, crand="0a0b0c0d", cnum="1", response="${mic.toString('hex')}"`;
    socket.write([...base.slice(0, -1), authorization, 'Content-Length: 0', '', ''].join('\r\n'));
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    socket.destroy();
    context.dispose();
    credential.release();
    return received[0]!.split('\r\n')[0]!;
  }

  it('a tampered client signature on the AP-REQ REGISTER is refused; the same one untampered is accepted', async () => {
    ticketCache('raw');
    const bad = count(server, 'bad-signature');
    expect(await registerWith(true)).toBe('SIP/2.0 401 Unauthorized');
    expect(count(server, 'bad-signature')).toBe(bad + 1);
    expect(await registerWith(false)).toBe('SIP/2.0 200 OK');
    expect(count(server, 'bad-signature')).toBe(bad + 1);
  });
});

describe('Kerberos failures reach the user with a reason and a hint', () => {
  it('single sign-on without a ticket: fatal, "run kinit"', async () => {
    ticketCache('empty');
    t = await startParley();
    const account = await addAccount({ authentication: 'kerberos', sso: true }, undefined);
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-failed');
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/^No Kerberos ticket for single sign-on/);
    expect(error.hint).toMatch(/kinit/);
    expect(error.hint).toMatch(/single sign-on off/);
  });

  it('single sign-on with an expired ticket: fatal, "run kinit"', async () => {
    const cache = ticketCache('expired');
    await realm.kinit('alice', 'alice-pw', cache, { lifetime: '2s' });
    await expect.poll(() => spawnSync('klist', ['-s', '-c', `FILE:${cache}`]).status, { timeout: 10_000, interval: 200 }).not.toBe(0);
    t = await startParley();
    const account = await addAccount({ authentication: 'auto', sso: true }, undefined);
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-failed');
    expect(error.message).toMatch(/expired/i);
    expect(error.hint).toMatch(/kinit/);
  });

  it('a wrong password: authentication-failed naming the principal, fatal, the KDC text verbatim', async () => {
    ticketCache('wrong');
    t = await startParley();
    const account = await addAccount({ authentication: 'kerberos', sso: false }, 'not-the-password');
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-failed');
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/password for alice\b/);
    expect(error.serverText).toBeTruthy();
    expect(error.message).toContain(error.serverText!);
  });

  it('an unknown service principal: authentication-impossible, the hint names the principal tried', async () => {
    ticketCache('unknown-service');
    const elsewhere = await ocsServer({ targetName: 'other.example.test' });
    extraServers.push(elsewhere);
    t = await startParley();
    const account = await addAccount({ authentication: 'kerberos', sso: false }, 'alice-pw', elsewhere);
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('authentication-impossible');
    expect(error.hint).toContain('sip/other.example.test');
    expect(error.serverText).toMatch(/not found in Kerberos database/);
  });

  it('an unreachable KDC: a network error (retried), with the library text', async () => {
    ticketCache('no-kdc');
    const dead = await freePort();
    const conf = join(scratch, 'dead-kdc.conf');
    writeFileSync(conf, readFileSync(realm.krb5Conf, 'utf8').replace(`127.0.0.1:${realm.port}`, `127.0.0.1:${dead}`));
    process.env.KRB5_CONFIG = conf;
    try {
      t = await startParley();
      const account = await addAccount({ authentication: 'kerberos', sso: false }, 'alice-pw');
      const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
      expect(error.reason).toBe('network');
      expect(error.fatal).toBe(false);
      expect(error.message).toMatch(/Cannot contact any KDC/);
    } finally {
      process.env.KRB5_CONFIG = realm.krb5Conf;
    }
  });
});
