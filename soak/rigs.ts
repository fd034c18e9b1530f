/**
 * One rig per protocol: a real server started by the repository's test
 * launchers, two Parley instances (each its own home, as two users on two
 * machines) with one account each, and a way to restart the server.
 *
 * The Parley instances run with the core's default reconnect policy: the soak
 * measures what a user gets, not a test's shortened backoff.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, type LogRecord, type Parley, type ProtocolPlugin } from '@parley/core';
import xmppPlugin from '@parley/plugin-xmpp';
import ircPlugin from '@parley/plugin-irc';
import { createOcsPlugin } from '@parley/plugin-ocs';
import { startTestProsody } from '../test/servers/prosody.js';
import { startNgircd } from '../test/servers/ngircd.js';
import { startKamailio } from '../test/servers/kamailio.js';
import { createTestCertificates } from '../test/servers/test-ca.js';
import { startOcsServer, type OcsServer, type OcsServerOptions } from '../packages/plugin-ocs/test/ocs-server/server.js';

export type ProtocolId = 'xmpp' | 'irc' | 'ocs' | 'sip';
export const PROTOCOLS: readonly ProtocolId[] = ['xmpp', 'irc', 'ocs', 'sip'];

export interface Peer {
  /** "alice" or "bob". */
  name: string;
  parley: Parley;
  accountId: string;
  /** This peer's own address: where the other peer sends. */
  address: string;
  /** Warnings and errors this instance logged, for the report's details. */
  logs: LogRecord[];
}

export interface Rig {
  id: ProtocolId;
  /** Protocol and server, as the table heads it. */
  title: string;
  /** What the protocol tells the sender about delivery, printed under the table. */
  delivery: string;
  peers: readonly [Peer, Peer];
  /** Stops the server and starts it again; resolves once it accepts connections. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface ParleyHome {
  parley: Parley;
  logs: LogRecord[];
  close(): Promise<void>;
}

async function parleyWith(plugin: ProtocolPlugin, ca: string | undefined): Promise<ParleyHome> {
  const home = mkdtempSync(join(tmpdir(), 'parley-soak-'));
  const logs: LogRecord[] = [];
  const parley = await createParley({
    home,
    plugins: [plugin],
    discover: false,
    passphrase: 'soak passphrase',
    secretStore: 'file',
    ...(ca === undefined ? {} : { tls: { ca: [ca] } }),
    log: (record) => {
      if (record.level === 'warn' || record.level === 'error') logs.push(record);
    },
  });
  return {
    parley,
    logs,
    close: async () => {
      await parley.shutdown();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function peer(home: ParleyHome, name: string, address: string, account: { protocol: string; username: string; settings: Record<string, unknown>; password?: string }): Promise<Peer> {
  const added = await home.parley.accounts.add({
    protocol: account.protocol,
    username: account.username,
    settings: account.settings as never,
    ...(account.password === undefined ? {} : { secrets: { password: account.password } }),
  });
  await home.parley.accounts.connect(added.id);
  return { name, parley: home.parley, accountId: added.id, address, logs: home.logs };
}

async function xmppRig(): Promise<Rig> {
  const server = await startTestProsody({ users: { alice: 'alice-soak', bob: 'bob-soak' } });
  const homes = [await parleyWith(xmppPlugin, server.certificates.caCert), await parleyWith(xmppPlugin, server.certificates.caCert)] as const;
  const account = (user: string) => ({ protocol: 'xmpp', username: server.jid(user), settings: { server: server.host, port: server.port }, password: `${user}-soak` });
  const peers = [await peer(homes[0], 'alice', server.jid('alice'), account('alice')), await peer(homes[1], 'bob', server.jid('bob'), account('bob'))] as const;
  return {
    id: 'xmpp',
    title: 'XMPP (Prosody 0.12, STARTTLS, XEP-0198 stream management)',
    delivery: 'the server acknowledges stanzas (XEP-0198); it stores messages for an offline contact',
    peers,
    restart: () => server.restart(),
    close: async () => {
      for (const home of homes) await home.close();
      await server.stop();
    },
  };
}

async function ircRig(): Promise<Rig> {
  const server = await startNgircd();
  const homes = [await parleyWith(ircPlugin, server.certificates.caCert), await parleyWith(ircPlugin, server.certificates.caCert)] as const;
  // Flood control off: the soak writes ten messages a second each way, and the test ngircd has no flood limits (MaxPenaltyTime = 0).
  const account = (nick: string) => ({ protocol: 'irc', username: `${nick}@127.0.0.1`, settings: { server: '127.0.0.1', port: server.tlsPort, tls: true, floodInterval: 0 } });
  const peers = [await peer(homes[0], 'alice', 'alice', account('alice')), await peer(homes[1], 'bob', 'bob', account('bob'))] as const;
  return {
    id: 'irc',
    title: 'IRC (ngircd 26, TLS)',
    delivery:
      'IRC has no acknowledgements and no offline storage: Parley counts a message sent once the server answers a PING written after it, and reports it failed on a refusal (401 no such nick while the peer is away) or when the link ends first',
    peers,
    restart: () => server.restart(),
    close: async () => {
      for (const home of homes) await home.close();
      await server.close();
    },
  };
}

const OCS_USERS = [
  { address: 'alice@example.test', login: 'alice', password: 'alice-soak', displayName: 'Alice' },
  { address: 'bob@example.test', login: 'bob', password: 'bob-soak', displayName: 'Bob' },
];

async function ocsRig(): Promise<Rig> {
  const certificates = createTestCertificates(mkdtempSync(join(tmpdir(), 'parley-soak-ca-')), ['localhost', '127.0.0.1', 'ocs.example.test']);
  const options: OcsServerOptions = { users: OCS_USERS, tls: { key: certificates.key, cert: certificates.cert } };
  let server: OcsServer = await startOcsServer(options);
  const port = server.port;
  const plugin = createOcsPlugin();
  const homes = [await parleyWith(plugin, certificates.caCert), await parleyWith(plugin, certificates.caCert)] as const;
  const account = (user: (typeof OCS_USERS)[number]) => ({
    protocol: 'ocs',
    username: user.address,
    settings: { server: `127.0.0.1:${port}`, transport: 'tls', authentication: 'ntlm', login: user.login },
    password: user.password,
  });
  const peers = [await peer(homes[0], 'alice', 'alice@example.test', account(OCS_USERS[0]!)), await peer(homes[1], 'bob', 'bob@example.test', account(OCS_USERS[1]!))] as const;
  return {
    id: 'ocs',
    title: 'OCS (test OCS server: TLS, NTLM, signed messages, IM sessions)',
    delivery: 'each MESSAGE in the IM session is answered by the peer (200) or refused (480 offline, 481 no session)',
    peers,
    restart: async () => {
      await server.close();
      server = await startOcsServer({ ...options, port });
    },
    close: async () => {
      for (const home of homes) await home.close();
      await server.close();
    },
  };
}

async function sipRig(): Promise<Rig> {
  const kamailio = await startKamailio({ users: { alice: 'alice-soak', bob: 'bob-soak' }, domain: 'example.test', presence: true });
  const plugin = createOcsPlugin();
  const homes = [await parleyWith(plugin, undefined), await parleyWith(plugin, undefined)] as const;
  const account = (user: string) => ({
    protocol: 'ocs',
    username: `${user}@example.test`,
    settings: { server: `127.0.0.1:${kamailio.port}`, transport: 'tcp', authentication: 'digest' },
    password: `${user}-soak`,
  });
  const peers = [await peer(homes[0], 'alice', 'alice@example.test', account('alice')), await peer(homes[1], 'bob', 'bob@example.test', account('bob'))] as const;
  return {
    id: 'sip',
    title: 'SIP (Kamailio 5.6 registrar and proxy, TCP, Digest)',
    delivery: 'each page-mode MESSAGE is answered end to end (200 from the peer, 480 while it is not registered); no offline storage',
    peers,
    restart: () => kamailio.restart(),
    close: async () => {
      for (const home of homes) await home.close();
      await kamailio.stop();
    },
  };
}

export const RIGS: Record<ProtocolId, () => Promise<Rig>> = { xmpp: xmppRig, irc: ircRig, ocs: ocsRig, sip: sipRig };
