/**
 * OCS through real proxies: Dante (SOCKS5 with username/password) and
 * tinyproxy (HTTP CONNECT with Basic credentials), SIP over TLS and TCP, in
 * process and in the plugin's worker. The proxies connect onward from
 * 127.0.0.3 and the test server records each connection's peer address, so
 * a sign-in that bypassed the proxy cannot pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createParley, type Isolation, type Message, type Parley } from '@parley/core';
import { PROXY_EGRESS, startDante, type DanteServer } from '../../../test/servers/dante.js';
import { startTinyproxy, type TinyproxyServer } from '../../../test/servers/tinyproxy.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';

const users = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-pw' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-pw' },
];

let tlsServer: OcsServer;
let tcpServer: OcsServer;
let dante: DanteServer;
let tinyproxy: TinyproxyServer;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  const { key, cert } = testCertificates();
  tlsServer = await startOcsServer({ users, tls: { key, cert } });
  tcpServer = await startOcsServer({ users });
  [dante, tinyproxy] = await Promise.all([startDante({ auth: true }), startTinyproxy({ connectPorts: [tlsServer.port, tcpServer.port], auth: true })]);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await Promise.all([dante?.close(), tinyproxy?.close(), tlsServer?.close(), tcpServer?.close()]);
});

const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A core with the OCS plugin in process (the test helper) or in its worker thread (the built package). */
async function core(isolation: Isolation): Promise<Parley> {
  if (isolation === 'none') {
    const t: TestParley = await startParley();
    cleanups.push(t.cleanup);
    return t.parley;
  }
  const home = mkdtempSync(join(tmpdir(), 'ocs-proxy-'));
  const parley = await createParley({
    home,
    isolation: 'worker',
    pluginModules: [builtPlugin],
    passphrase: 'test',
    secretStore: 'file',
    discover: false,
    history: false,
    tls: { ca: [testCertificates().caCert] },
    log: () => {},
  });
  cleanups.push(async () => {
    await parley.shutdown();
    rmSync(home, { recursive: true, force: true });
  });
  return parley;
}

async function signIn(parley: Parley, address: string, server: OcsServer, settings: Record<string, unknown> = {}): Promise<string> {
  const user = users.find((u) => u.address === address)!;
  const account = await parley.accounts.add({
    protocol: 'ocs',
    username: address,
    settings: { server: `127.0.0.1:${server.port}`, transport: server === tlsServer ? 'tls' : 'tcp', authentication: 'ntlm', login: user.login, ...settings },
    secrets: { password: user.password },
  });
  await parley.accounts.connect(account.id);
  return account.id;
}

function received(parley: Parley): Message[] {
  const list: Message[] = [];
  parley.events.on('messageReceived', (m) => list.push(m));
  return list;
}

const kinds = [
  { name: 'SOCKS5 (Dante)', url: () => dante.url('socks5'), seen: (port: number) => new RegExp(`127\\.0\\.0\\.1\\.${port}\\b`), log: () => dante.log() },
  { name: 'HTTP CONNECT (tinyproxy)', url: () => tinyproxy.url(), seen: (port: number) => new RegExp(`CONNECT 127\\.0\\.0\\.1:${port} `), log: () => tinyproxy.log() },
];
const cases: Array<[Isolation, string, 'tls' | 'tcp']> = [
  ['none', kinds[0]!.name, 'tls'],
  ['none', kinds[0]!.name, 'tcp'],
  ['none', kinds[1]!.name, 'tls'],
  ['none', kinds[1]!.name, 'tcp'],
  ['worker', kinds[0]!.name, 'tls'],
  ['worker', kinds[1]!.name, 'tcp'],
];

describe('OCS through a proxy', () => {
  it.each(cases)('isolation %s, %s, SIP over %s: signs in, messages go both ways, the server sees the proxy', async (isolation, kindName, transport) => {
    const kind = kinds.find((k) => k.name === kindName)!;
    const server = transport === 'tls' ? tlsServer : tcpServer;
    const aliceCore = await core(isolation);
    const bobCore = await startParley();
    cleanups.push(bobCore.cleanup);
    const before = server.peers.length;
    const alice = await signIn(aliceCore, 'alice@example.test', server, { proxy: kind.url() });
    expect(aliceCore.accounts.status(alice).state).toBe('online');
    // Every connection of alice's sign-in came from the proxy.
    expect(server.peers.slice(before).length).toBeGreaterThan(0);
    expect(new Set(server.peers.slice(before))).toEqual(new Set([PROXY_EGRESS]));
    await expect.poll(() => kind.seen(server.port).test(kind.log())).toBe(true);

    const bob = await signIn(bobCore.parley, 'bob@example.test', server);
    const atBob = received(bobCore.parley);
    const atAlice = received(aliceCore);
    await aliceCore.conversations.sendIm(alice, 'bob@example.test', 'through the proxy');
    await expect.poll(() => atBob.map((m) => m.text)).toEqual(['through the proxy']);
    await bobCore.parley.conversations.sendIm(bob, 'alice@example.test', 'and back');
    await expect.poll(() => atAlice.map((m) => m.text)).toEqual(['and back']);
  });

  it('a proxy that refuses the destination fails with its status line, not a silent retry', async () => {
    const parley = await core('none');
    const error = await signIn(parley, 'alice@example.test', tlsServer, { server: '127.0.0.1:1', proxy: tinyproxy.url() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ reason: 'proxy-refused', fatal: true, protocolDetail: 403 });
  });
});
