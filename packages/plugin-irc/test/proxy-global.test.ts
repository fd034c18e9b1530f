/**
 * The global proxy (what `parley config set proxy` writes) and a proxy that
 * goes away mid-session, with real proxies in front of ngircd. The proxies
 * connect onward from 127.0.0.3, and ngircd's WHOIS shows where a client came
 * from, so a direct connection (from 127.0.0.1) cannot pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isParleyError, type ConnectionError } from '@parley/core';
import { PROXY_EGRESS, startDante } from '../../../test/servers/dante.js';
import { startDnsmasq } from '../../../test/servers/dnsmasq.js';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { startTinyproxy, type TinyproxyServer } from '../../../test/servers/tinyproxy.js';
import { harness, rawClient, waitFor } from './helpers.js';

let irc: NgircdServer;
let tinyproxy: TinyproxyServer;

beforeAll(async () => {
  irc = await startNgircd();
  tinyproxy = await startTinyproxy({ connectPorts: [irc.port], auth: true });
});

afterAll(async () => {
  await Promise.all([tinyproxy?.close(), irc?.close()]);
});

/** The address ngircd saw the nick connect from (RFC 2812 5.1, 311 RPL_WHOISUSER). */
async function addressOf(nick: string): Promise<string> {
  const watcher = await rawClient(irc.port, `w${nick}`);
  try {
    watcher.send(`WHOIS ${nick}`);
    const line = await waitFor(() => watcher.lines.find((l) => new RegExp(` 311 w${nick} ${nick} `, 'i').test(l)), `WHOIS ${nick}`);
    return line.split(' ')[5]!;
  } finally {
    watcher.close();
  }
}

describe('the global proxy', () => {
  it('carries every account set to "default"; its password goes to the secret store, never to config.json; "none" makes the next connection direct', async () => {
    const h = await harness();
    try {
      expect(await h.parley.settings.proxy()).toEqual({ value: 'none', source: 'unset', passwordStored: false });
      const view = await h.parley.settings.setProxy(tinyproxy.url());
      const withoutPassword = tinyproxy.url().replace(`:${tinyproxy.password}@`, '@');
      expect(view).toEqual({ value: withoutPassword, source: 'config', passwordStored: true });
      const file = readFileSync(join(h.parley.paths.config, 'config.json'), 'utf8');
      expect(JSON.parse(file)).toMatchObject({ proxy: withoutPassword });
      expect(file).not.toContain(tinyproxy.password!);

      const id = await h.account('globalpx', { server: '127.0.0.1', port: irc.port, tls: false });
      await h.parley.accounts.connect(id);
      expect(await addressOf('globalpx')).toBe(PROXY_EGRESS);
      await waitFor(() => new RegExp(`CONNECT 127\\.0\\.0\\.1:${irc.port} `).test(tinyproxy.log()), "the proxy's log of the tunnel");
      await h.parley.accounts.disconnect(id);

      // Changed while Parley runs: the next connection goes without it, and the stored password is forgotten.
      expect(await h.parley.settings.setProxy('none')).toEqual({ value: 'none', source: 'config', passwordStored: false });
      await h.parley.accounts.connect(id);
      expect(await addressOf('globalpx')).toBe('127.0.0.1');
      await h.parley.accounts.disconnect(id);
    } finally {
      await h.close();
    }
  });

  it('refuses a value that cannot work, with a coded error, and keeps what was set', async () => {
    const h = await harness();
    try {
      await h.parley.settings.setProxy('socks5://127.0.0.1:1080');
      for (const bad of ['ftp://127.0.0.1:21', 'socks5://', 'default', 'http://127.0.0.1:3128/path', 'not a url\r\nX: y']) {
        const error = await h.parley.settings.setProxy(bad).then(() => undefined, (e: unknown) => e);
        expect(isParleyError(error, 'invalid-config'), bad).toBe(true);
      }
      // A password needs a user to go with it.
      const orphan = await h.parley.settings.setProxy('http://127.0.0.1:3128', 'secret').then(() => undefined, (e: unknown) => e);
      expect(isParleyError(orphan, 'invalid-config')).toBe(true);
      expect(await h.parley.settings.proxy()).toEqual({ value: 'socks5://127.0.0.1:1080', source: 'config', passwordStored: false });
      expect(JSON.parse(readFileSync(join(h.parley.paths.config, 'config.json'), 'utf8'))).toMatchObject({ proxy: 'socks5://127.0.0.1:1080' });
    } finally {
      await h.close();
    }
  });

  it('is fixed when the embedder gives one: it cannot be changed underneath the program', async () => {
    const h = await harness({ proxy: 'none' });
    try {
      expect(await h.parley.settings.proxy()).toEqual({ value: 'none', source: 'embedder', passwordStored: false });
      const error = await h.parley.settings.setProxy(tinyproxy.url()).then(() => undefined, (e: unknown) => e);
      expect(isParleyError(error, 'invalid-config')).toBe(true);
      expect(existsSync(join(h.parley.paths.config, 'config.json'))).toBe(false);
    } finally {
      await h.close();
    }
  });
});

describe('a proxy that goes away mid-session', () => {
  it('is a non-fatal loss: the core reconnects with backoff, each attempt failing as "proxy unreachable" while it is gone', async () => {
    const dante = await startDante();
    const h = await harness({ reconnect: { afterDropDelayMs: 50, initialDelayMs: 200, maxDelayMs: 60_000, jitter: 0 } });
    try {
      const id = await h.account('droppx', { server: '127.0.0.1', port: irc.port, tls: false, proxy: dante.url('socks5') });
      await h.parley.accounts.connect(id);
      expect(await addressOf('droppx')).toBe(PROXY_EGRESS);

      await dante.stop();
      const lost = await waitFor(() => {
        const status = h.parley.accounts.status(id);
        return status.state === 'reconnecting' ? status : undefined;
      }, 'the loss to be reported');
      expect((lost.error as ConnectionError).fatal).toBe(false);
      // The retries find the proxy gone: each is a non-fatal proxy-unreachable, and the waits grow.
      const retries = await waitFor(() => {
        const status = h.parley.accounts.status(id);
        return status.state === 'reconnecting' && (status.attempt ?? 0) >= 2 && status.error?.reason === 'proxy-unreachable' ? status : undefined;
      }, 'two failed retries through the missing proxy');
      expect(retries.error).toMatchObject({ reason: 'proxy-unreachable', fatal: false });
      expect(retries.nextAttemptAt! - Date.now()).toBeGreaterThan(200);
      await h.parley.accounts.disconnect(id);
    } finally {
      await h.close();
      await dante.close();
    }
  });
});

describe('socks5h: the proxy resolves the server name', () => {
  it('no DNS query for the server leaves Parley (the DNS server it is given logs none), while plain socks5 does look it up', async () => {
    const dns = await startDnsmasq({});
    const dante = await startDante();
    const h = await harness({ dnsServers: [dns.server] });
    const queriesFor = (name: string) => dns.log().split('\n').filter((line) => new RegExp(`query\\[\\w+\\] ${name.replace(/\./g, '\\.')} `).test(line));
    try {
      // The control: with socks5, Parley resolves the name itself, and the DNS server sees it.
      const local = await h.account('dnslocal', { server: 'localhost', port: irc.port, tls: false, proxy: dante.url('socks5') });
      await h.parley.accounts.connect(local);
      expect(await addressOf('dnslocal')).toBe(PROXY_EGRESS);
      await waitFor(() => queriesFor('localhost').length > 0, 'the lookup of the server name by Parley');
      await h.parley.accounts.disconnect(local);
      const before = queriesFor('localhost').length;

      const remote = await h.account('dnsremote', { server: 'localhost', port: irc.port, tls: false, proxy: dante.url('socks5h') });
      await h.parley.accounts.connect(remote);
      expect(await addressOf('dnsremote')).toBe(PROXY_EGRESS);
      // Dante resolved the name and connected onward itself.
      expect(dante.log()).toMatch(new RegExp(`127\\.0\\.0\\.1\\.${irc.port}\\b`));
      await h.parley.accounts.disconnect(remote);
      expect(queriesFor('localhost').length).toBe(before);
    } finally {
      await h.close();
      await dante.close();
      await dns.stop();
    }
  });
});
