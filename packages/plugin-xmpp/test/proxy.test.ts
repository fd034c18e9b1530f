/**
 * XMPP through real proxies: Dante (SOCKS5 with username/password) and
 * tinyproxy (HTTP CONNECT with Basic credentials), STARTTLS and direct TLS,
 * with the plugin in process and in its worker. The proxies connect onward
 * from 127.0.0.3; Prosody's debug log names each connection's peer address,
 * and the account's sign-in must add a connection from there and none from
 * 127.0.0.1, so a connection that bypassed the proxy cannot pass.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError, Isolation } from '@parley/core';
import { PROXY_EGRESS, startDante, type DanteServer } from '../../../test/servers/dante.js';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { startTinyproxy, type TinyproxyServer } from '../../../test/servers/tinyproxy.js';
import { harness, rawXmpp, waitFor, xml, type Harness, type RawXmpp } from './helpers.js';

let server: TestProsody;
let dante: DanteServer;
let tinyproxy: TinyproxyServer;
let bob: RawXmpp;
const users: Record<string, string> = { bob: 'bobpw' };
for (let i = 1; i <= 12; i++) users[`px${i}`] = `pw${i}`;

beforeAll(async () => {
  server = await startTestProsody({
    users,
    // Debug level: Prosody then logs each accepted connection with the peer's address.
    logLevel: 'debug',
  });
  [dante, tinyproxy] = await Promise.all([startDante({ auth: true }), startTinyproxy({ connectPorts: [server.port, server.directTlsPort!], auth: true })]);
  bob = await rawXmpp(server, 'bob', 'bobpw');
  // A positive priority: messages to the bare JID reach this resource (RFC 6121 §8.5.2.1.1).
  await bob.send(xml('presence', {}, xml('priority', {}, '1')));
});

afterAll(async () => {
  await bob?.stop();
  await Promise.all([dante?.close(), tinyproxy?.close()]);
  await server?.stop();
});

const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function proxied(isolation: Isolation): Promise<Harness> {
  return isolation === 'worker' ? harness(server, { isolation: 'worker', plugins: [], pluginModules: [builtPlugin] }) : harness(server, { isolation: 'none' });
}

/** Connections Prosody accepted from `address`, by its debug log ("New connection FD n (address, port, …)"). */
function connectionsFrom(address: string): number {
  const log = readFileSync(join(server.dir, 'prosody.log'), 'utf8');
  return [...log.matchAll(/New connection FD \d+ \(([^,]+),/g)].filter((m) => m[1] === address).length;
}

let serial = 0;

describe.each<Isolation>(['none', 'worker'])('XMPP through a proxy (isolation %s)', (isolation) => {
  const kinds = [
    { name: 'SOCKS5 (Dante)', url: () => dante.url('socks5'), log: () => dante.log(), seen: (port: number) => new RegExp(`127\\.0\\.0\\.1\\.${port}\\b`) },
    { name: 'HTTP CONNECT (tinyproxy)', url: () => tinyproxy.url(), log: () => tinyproxy.log(), seen: (port: number) => new RegExp(`CONNECT 127\\.0\\.0\\.1:${port} `) },
  ];
  describe.each(kinds)('$name', (kind) => {
    it.each(['starttls', 'tls'] as const)('signs in (%s), messages go both ways, and Prosody sees the proxy as the client', async (security) => {
      const h = await proxied(isolation);
      const user = `px${++serial}`;
      try {
        const port = security === 'tls' ? server.directTlsPort! : server.port;
        const id = await h.account(user, users[user]!, { security, port, proxy: kind.url() });
        const direct = connectionsFrom('127.0.0.1');
        const proxiedBefore = connectionsFrom(PROXY_EGRESS);
        await h.parley.accounts.connect(id);
        expect(h.parley.accounts.status(id).state).toBe('online');
        await waitFor(() => connectionsFrom(PROXY_EGRESS) > proxiedBefore, 'Prosody to log the connection from the proxy');
        expect(connectionsFrom('127.0.0.1')).toBe(direct);
        await waitFor(() => kind.seen(port).test(kind.log()), "the proxy's log of the tunnel");

        await h.parley.conversations.sendIm(id, server.jid('bob'), `hello from ${user}`);
        await waitFor(() => bob.stanzas.find((s) => s.is('message') && s.getChildText('body') === `hello from ${user}`), 'bob gets it');
        await bob.send(xml('message', { to: server.jid(user), type: 'chat' }, xml('body', {}, `hello ${user}`)));
        await waitFor(() => h.messages.find((m) => m.direction === 'incoming' && m.text === `hello ${user}`), 'the answer arrives');
      } finally {
        await h.close();
      }
    });
  });

  it('a wrong proxy password is a fatal error naming the proxy, and no retry', async () => {
    const h = await proxied(isolation);
    try {
      const user = `px${++serial}`;
      const id = await h.account(user, users[user]!, { proxy: tinyproxy.url({ username: 'parley', password: 'wrong' }) });
      const error = (await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error).toMatchObject({ reason: 'proxy-authentication-failed', fatal: true });
      expect(error.message).toContain(`HTTP proxy 127.0.0.1:${tinyproxy.port}`);
      expect(h.parley.accounts.status(id).state).toBe('error');
      expect(h.parley.accounts.status(id).nextAttemptAt).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
