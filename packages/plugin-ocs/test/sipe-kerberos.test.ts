/**
 * Kerberos interop with the real pidgin-sipe 1.25 (through BitlBee), against a
 * real MIT KDC: SIPE signs in to the test OCS server with Kerberos and single
 * sign-on from a ticket cache kinit filled (proving the server's Kerberos is
 * what a real client speaks: the AP-REQ, the signed REGISTER, GSS MICs both
 * ways), and exchanges messages with a Parley account signed in with
 * Kerberos and single sign-on from another ticket cache.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@parley/core';
import { startKerberosRealm, type KerberosRealm } from '../../../test/servers/kerberos.js';
import type { OcsConnection } from '../src/connection.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { IrcControl, relay, sendPrivmsg, startBitlBee, trustForPurple, type BitlBee } from './bitlbee.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';

const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';
const REALM = 'EXAMPLE.TEST';
/** BitlBee names a contact after its handle, `sip:bob@example.test`. */
const BOB_NICK = 'sipbob';
let realm: KerberosRealm;
let server: OcsServer;
let bee: BitlBee;
let irc: IrcControl | undefined;
let t: TestParley;
let scratch: string;
let bobId: string;
const connections: OcsConnection[] = [];
const atParley: Message[] = [];
const saved = { KRB5_CONFIG: process.env.KRB5_CONFIG, KRB5CCNAME: process.env.KRB5CCNAME };

beforeAll(async () => {
  realm = await startKerberosRealm({
    realm: REALM,
    users: [
      { name: 'alice', password: 'alice-pw' },
      { name: 'bob', password: 'bob-pw' },
    ],
    services: ['sip/ocs.example.test'],
  });
  scratch = mkdtempSync(join(tmpdir(), 'parley-sipe-krb-'));
  const aliceCache = join(scratch, 'alice.cc');
  const bobCache = join(scratch, 'bob.cc');
  await realm.kinit('alice', 'alice-pw', aliceCache);
  await realm.kinit('bob', 'bob-pw', bobCache);
  const { key, cert } = testCertificates();
  server = await startOcsServer({
    users: [
      { address: 'alice@example.test', login: 'EXAMPLE\\alice', password: 'unused-with-kerberos', displayName: 'Alice (SIPE)' },
      { address: 'bob@example.test', login: 'bob', password: 'unused-with-kerberos', displayName: 'Bob (Parley)' },
    ],
    tls: { key, cert },
    targetName: 'ocs.example.test',
    // Only Kerberos: a sign-in that fell back to NTLM would fail.
    kerberos: { keytab: realm.keytab, realm: REALM, only: true },
    services: {
      contactLists: {
        'alice@example.test': { groups: [{ id: 1, name: '~' }, { id: 2, name: 'Parley' }], contacts: [{ uri: 'bob@example.test', name: 'Bob', groups: [2] }] },
        'bob@example.test': { groups: [{ id: 1, name: '~' }], contacts: [{ uri: 'alice@example.test', name: 'Alice', groups: [1] }] },
      },
    },
  });
  // BitlBee (and SIPE in it) takes the realm and alice's ticket cache from its environment.
  process.env.KRB5_CONFIG = realm.krb5Conf;
  process.env.KRB5CCNAME = `FILE:${aliceCache}`;
  bee = await startBitlBee();
  // Parley signs in as bob from bob's cache.
  process.env.KRB5CCNAME = `FILE:${bobCache}`;
  t = await startParley({}, undefined, { connections });
  t.parley.events.on('messageReceived', (m) => atParley.push(m));
});
afterAll(async () => {
  if (process.env.OCS_DEBUG_SIPE) console.log(JSON.stringify(server?.events.filter((e) => e.kind !== 'register')), irc?.lines.join('\n'), process.env.OCS_DEBUG_SIPE === '2' ? bee?.log() : '');
  irc?.close();
  await bee?.stop();
  await t?.cleanup();
  await server?.close();
  await realm?.stop();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  rmSync(scratch, { recursive: true, force: true });
});

describe('pidgin-sipe with Kerberos and single sign-on on the test OCS server', () => {
  it('SIPE signs in with Kerberos from its ticket cache; the server verifies its signed messages', async () => {
    const { cert } = testCertificates();
    trustForPurple(bee, 'sipekrb', '127.0.0.1', cert);
    irc = await IrcControl.connect(bee.port, 'sipekrb');
    // With single sign-on SIPE needs no password; BitlBee wants one on the command line.
    irc.say('account add sipe alice@example.test,alice@EXAMPLE.TEST unused');
    await irc.waitFor(/Account successfully added/i, 10_000);
    irc.say(`account sipe set server 127.0.0.1:${server.port}`);
    irc.say('account sipe set transport tls');
    irc.say('account sipe set authentication krb5');
    irc.say('account sipe set sso true');
    irc.say(`account sipe set useragent "${OC_2007_R2}"`);
    irc.say('account sipe on');
    const line = await irc.waitFor(/sipe - (Logging in: Logged in|Login error|Couldn't log in)/i, 30_000);
    expect(line, `${JSON.stringify(server.events.filter((e) => e.kind !== 'register'))}\n${bee.log().slice(-4000)}`).toMatch(/Logged in/);
    expect(server.events.some((e) => e.kind === 'authenticated' && e.detail === 'alice@example.test')).toBe(true);
    await expect.poll(() => server.events.filter((e) => e.kind === 'request').length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });

  it('a Parley account with Kerberos and single sign-on (auto) signs in beside it', async () => {
    const account = await t.parley.accounts.add({
      protocol: 'ocs',
      username: 'bob@example.test',
      settings: { server: `127.0.0.1:${server.port}`, transport: 'tls', authentication: 'auto', sso: true, login: 'bob' },
    });
    bobId = account.id;
    await t.parley.accounts.connect(account.id);
    expect(connections.at(-1)?.authenticationScheme).toBe('Kerberos');
    expect(server.events.some((e) => e.kind === 'kerberos-mutual' && e.detail === 'bob@example.test')).toBe(true);
  });

  it('Parley and SIPE exchange messages, every one signed with Kerberos both ways', async () => {
    await expect.poll(() => t.parley.buddies.find(bobId, 'alice@example.test')?.buddy.presence.status, { timeout: 15_000 }).toBe('available');
    await t.parley.conversations.sendIm(bobId, 'alice@example.test', 'Hello SIPE, Kerberos here');
    await irc!.waitFor(relay.privmsgFrom(BOB_NICK, 'Hello SIPE, Kerberos here'), 15_000);
    sendPrivmsg(irc!, BOB_NICK, 'Hi Parley, signed with my ticket');
    await expect.poll(() => atParley.map((m) => m.text), { timeout: 15_000 }).toContain('Hi Parley, signed with my ticket');
    expect(atParley.find((m) => m.text === 'Hi Parley, signed with my ticket')?.sender).toBe('alice@example.test');
    expect(server.events.filter((e) => e.kind === 'bad-signature')).toEqual([]);
  });
});
