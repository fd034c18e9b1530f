/**
 * IRC through real proxies: Dante (SOCKS5, RFC 1928, with RFC 1929
 * username/password) and tinyproxy (HTTP CONNECT with Basic credentials).
 * Both connect onward from 127.0.0.3; ngircd shows the address a client came
 * from in WHOIS, so a connection that bypassed the proxy (from 127.0.0.1)
 * cannot pass. Each runs with the plugin in process and in its worker thread,
 * where the socket has to be opened.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError, Isolation } from '@parley/core';
import { PROXY_EGRESS, startDante, type DanteServer } from '../../../test/servers/dante.js';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { freePort } from '../../../test/servers/process.js';
import { startTinyproxy, type TinyproxyServer } from '../../../test/servers/tinyproxy.js';
import { harness, rawClient, waitFor, type Harness } from './helpers.js';

let irc: NgircdServer;
let dante: DanteServer;
let tinyproxy: TinyproxyServer;

beforeAll(async () => {
  irc = await startNgircd();
  [dante, tinyproxy] = await Promise.all([startDante({ auth: true }), startTinyproxy({ connectPorts: [irc.port, irc.tlsPort], auth: true })]);
});

afterAll(async () => {
  await Promise.all([dante?.close(), tinyproxy?.close(), irc?.close()]);
});

const builtPlugin = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function proxied(isolation: Isolation): Promise<Harness> {
  const tls = { ca: [irc.certificates.caCert] };
  return isolation === 'worker' ? harness({ tls, isolation: 'worker', plugins: [], pluginModules: [builtPlugin] }) : harness({ tls, isolation: 'none' });
}

/** The address ngircd saw the nick connect from (RFC 2812 5.1, 311 RPL_WHOISUSER). */
async function addressOf(nick: string, watcherNick: string): Promise<string> {
  const watcher = await rawClient(irc.port, watcherNick);
  try {
    watcher.send(`WHOIS ${nick}`);
    const line = await waitFor(() => watcher.lines.find((l) => new RegExp(` 311 ${watcherNick} ${nick} `, 'i').test(l)), `WHOIS ${nick}`);
    return line.split(' ')[5]!;
  } finally {
    watcher.close();
  }
}

let serial = 0;

describe.each<Isolation>(['none', 'worker'])('IRC through a proxy (isolation %s)', (isolation) => {
  const kinds = [
    { name: 'SOCKS5 (Dante)', url: () => dante.url('socks5'), log: (port: number) => new RegExp(`-> ${PROXY_EGRESS.replace(/\./g, '\\.')}\\.\\d+ 127\\.0\\.0\\.1\\.${port}\\b`) },
    { name: 'HTTP CONNECT (tinyproxy)', url: () => tinyproxy.url(), log: (port: number) => new RegExp(`CONNECT 127\\.0\\.0\\.1:${port} `) },
  ];
  describe.each(kinds)('$name', (kind) => {
    it.each([false, true])('signs in (TLS %s), messages go both ways, and the server sees the proxy as the client', async (tls) => {
      const h = await proxied(isolation);
      const nick = `px${++serial}`;
      const peer = await rawClient(irc.port, `peer${serial}`);
      try {
        const port = tls ? irc.tlsPort : irc.port;
        const id = await h.account(nick, { server: '127.0.0.1', port, tls, proxy: kind.url() });
        // The password given in the URL went to the secret store: the account keeps the URL without it.
        const stored = String(h.parley.accounts.settings(id).proxy);
        expect(stored).not.toContain(':' + (dante.password ?? '-') + '@');
        expect(stored).not.toContain(':' + (tinyproxy.password ?? '-') + '@');
        await h.parley.accounts.connect(id);
        expect(h.parley.accounts.status(id).state).toBe('online');

        expect(await addressOf(nick, `w${serial}`)).toBe(PROXY_EGRESS);
        await waitFor(() => kind.log(port).test(kind === kinds[0] ? dante.log() : tinyproxy.log()), "the proxy's log of the tunnel");

        await h.parley.conversations.sendIm(id, `peer${serial}`, 'through the proxy');
        await waitFor(() => peer.lines.find((l) => l.endsWith(`PRIVMSG peer${serial} :through the proxy`)), 'the peer gets it');
        peer.send(`PRIVMSG ${nick} :and back`);
        await waitFor(() => h.messages.find((m) => m.direction === 'incoming' && m.text === 'and back'), 'parley gets the answer');
      } finally {
        peer.close();
        await h.close();
      }
    });
  });

  it('SOCKS4 (Dante without authentication: SOCKS4 has none) carries the connection too', async () => {
    const open = await startDante();
    const h = await proxied(isolation);
    const nick = `s4x${++serial}`;
    try {
      const id = await h.account(nick, { server: '127.0.0.1', port: irc.port, tls: false, proxy: open.url('socks4') });
      await h.parley.accounts.connect(id);
      expect(await addressOf(nick, `w${serial}`)).toBe(PROXY_EGRESS);
      await waitFor(() => new RegExp(`127\\.0\\.0\\.1\\.${irc.port}\\b`).test(open.log()), "Dante's log of the tunnel");
    } finally {
      await h.close();
      await open.close();
    }
  });

  it('a wrong SOCKS5 password is one attempt and a fatal error naming the proxy', async () => {
    const h = await proxied(isolation);
    try {
      const before = dante.log().match(/authentication failed/g)?.length ?? 0;
      const id = await h.account(`bad${++serial}`, { server: '127.0.0.1', port: irc.port, tls: false, proxy: dante.url('socks5', { username: dante.username!, password: 'wrong' }) });
      const error = (await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error).toMatchObject({ reason: 'proxy-authentication-failed', fatal: true });
      expect(error.message).toContain(`SOCKS5 proxy 127.0.0.1:${dante.port}`);
      expect(error.message).not.toContain('wrong');
      await waitFor(() => (dante.log().match(/authentication failed/g)?.length ?? 0) > before, 'Dante to log the refusal');
      // Fatal: no retry is planned, so the proxy sees this one attempt only.
      expect(h.parley.accounts.status(id)).toMatchObject({ state: 'error' });
      expect(h.parley.accounts.status(id).nextAttemptAt).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('a wrong HTTP proxy password is fatal, with the proxy status line', async () => {
    const h = await proxied(isolation);
    try {
      const id = await h.account(`bad${++serial}`, { server: '127.0.0.1', port: irc.port, tls: false, proxy: tinyproxy.url({ username: 'parley', password: 'wrong' }) });
      const error = (await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error).toMatchObject({ reason: 'proxy-authentication-failed', fatal: true });
      expect(error.serverText).toMatch(/^40[17] /);
      expect(h.parley.accounts.status(id).state).toBe('error');
    } finally {
      await h.close();
    }
  });

  it('a destination the proxy does not allow is refused, with its status line verbatim', async () => {
    const h = await proxied(isolation);
    try {
      const closedPort = await freePort();
      const id = await h.account(`no${++serial}`, { server: '127.0.0.1', port: closedPort, tls: false, proxy: tinyproxy.url() });
      const error = (await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error).toMatchObject({ reason: 'proxy-refused', fatal: true, protocolDetail: 403 });
      expect(error.serverText).toMatch(/^403 /);
    } finally {
      await h.close();
    }
  });

  it('a proxy that does not answer is a network error, retried', async () => {
    const h = await proxied(isolation);
    try {
      const nowhere = await freePort();
      const id = await h.account(`gone${++serial}`, { server: '127.0.0.1', port: irc.port, tls: false, proxy: `socks5://127.0.0.1:${nowhere}` });
      const error = (await h.parley.accounts.connect(id).then(() => undefined, (e: unknown) => e)) as ConnectionError;
      expect(error).toMatchObject({ reason: 'proxy-unreachable', fatal: false });
      expect(error.message).toContain(`127.0.0.1:${nowhere}`);
      await waitFor(() => h.parley.accounts.status(id).state === 'reconnecting' || h.parley.accounts.status(id).nextAttemptAt !== undefined, 'a retry is planned');
      await h.parley.accounts.disconnect(id);
    } finally {
      await h.close();
    }
  });
});
