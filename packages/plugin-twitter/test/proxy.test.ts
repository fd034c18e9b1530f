/**
 * The X API over HTTPS through real proxies: Dante (SOCKS5 with
 * username/password) and tinyproxy (HTTP CONNECT with Basic credentials),
 * through the core's HTTPS agent. The proxies connect onward from 127.0.0.3
 * and the test API server records each request's peer address, so a request
 * that bypassed the proxy cannot pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_EGRESS, startDante, type DanteServer } from '../../../test/servers/dante.js';
import { startTinyproxy, type TinyproxyServer } from '../../../test/servers/tinyproxy.js';
import { CLIENT_ID, worldPerTest } from './helpers.js';

let dante: DanteServer;
const x = worldPerTest();
const tinyproxies: TinyproxyServer[] = [];

beforeAll(async () => {
  dante = await startDante({ auth: true });
});
afterAll(async () => {
  await dante?.close();
  for (const t of tinyproxies) await t.close();
});

describe('the X API through a proxy', () => {
  it.each(['SOCKS5 (Dante)', 'HTTP CONNECT (tinyproxy)'])('signs in and reads through %s; every request comes from the proxy', async (kind) => {
    const apiPort = Number(new URL(x.world.api.url).port);
    let proxyUrl: string;
    let proxyLog: () => string;
    if (kind.startsWith('SOCKS5')) {
      proxyUrl = dante.url('socks5');
      proxyLog = () => dante.log();
    } else {
      // tinyproxy allows CONNECT only to the ports it is told: this world's API port.
      const tinyproxy = await startTinyproxy({ connectPorts: [apiPort], auth: true });
      tinyproxies.push(tinyproxy);
      proxyUrl = tinyproxy.url();
      proxyLog = () => tinyproxy.log();
    }
    const tokens = x.world.api.server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const client = await x.start({ secrets: { accessToken: tokens.accessToken }, settings: { proxy: proxyUrl } });
    await client.parley.accounts.connect(client.accountId);
    expect(client.parley.accounts.status(client.accountId).state).toBe('online');
    const requests = x.world.api.server.requests;
    expect(requests.length).toBeGreaterThan(0);
    expect(new Set(requests.map((r) => r.peer))).toEqual(new Set([PROXY_EGRESS]));
    await expect.poll(() => new RegExp(`127\\.0\\.0\\.1[.:]${apiPort}\\b`).test(proxyLog())).toBe(true);
  });

  it('a wrong SOCKS5 password is the fatal proxy error, and no request reaches the API', async () => {
    const tokens = x.world.api.server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const client = await x.start({ secrets: { accessToken: tokens.accessToken }, settings: { proxy: dante.url('socks5', { username: dante.username!, password: 'wrong' }) } });
    await expect(client.parley.accounts.connect(client.accountId)).rejects.toMatchObject({ reason: 'proxy-authentication-failed', fatal: true });
    expect(x.world.api.server.requests).toEqual([]);
  });
});
