/**
 * Server discovery against a real DNS server (dnsmasq on a loopback port)
 * and a local Lync autodiscover web service: DNS SRV, the host-name
 * fallbacks and autodiscover, each shown as connection progress, then a
 * sign-in to the server found.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsmasq, type Dnsmasq } from '../../../test/servers/dnsmasq.js';
import { createNet } from '@parley/core';
import { discoverServers, type ServerCandidate } from '../src/discovery.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { startParley, testCertificates, type TestParley } from './helpers.js';

let dnsmasq: Dnsmasq;
let ocs: OcsServer;
let web: http.Server;
let webPort: number;
let closedPort: number;
let t: TestParley | undefined;

beforeAll(async () => {
  const { key, cert } = testCertificates();
  ocs = await startOcsServer({
    users: [
      { address: 'alice@srv.test', login: 'alice1', password: 'pw-one' },
      { address: 'alice@example.test', login: 'alice2', password: 'pw-two' },
      { address: 'alice@auto.test', login: 'alice3', password: 'pw-three' },
    ],
    tls: { key, cert },
  });
  // A Lync autodiscover service ([MS-OCDISCWS]): root → user → SIP access points.
  web = http.createServer((request, response) => {
    response.setHeader('Content-Type', 'application/json');
    if (request.headers.host?.startsWith('lyncdiscoverinternal.bad.test')) {
      // A broken autodiscover service: a redirect loop, then garbage.
      if (request.url?.startsWith('/?sipuri=')) {
        response.end(JSON.stringify({ _links: { user: { href: `http://lyncdiscoverinternal.bad.test:${webPort}/loop` } } }));
      } else if (request.url === '/loop') {
        response.statusCode = 302;
        response.setHeader('Location', '/loop2');
        response.end();
      } else {
        response.end('{"SipClientInternalAccess": {"fqdn": "evil host\\r\\nX: 1", "port": "99999"}}');
      }
      return;
    }
    if (request.url?.startsWith('/?sipuri=')) {
      response.end(JSON.stringify({ _links: { self: { href: '/' }, user: { href: `http://lyncdiscover.auto.test:${webPort}/Autodiscover/AutodiscoverService.svc/root/user` } } }));
    } else if (request.url === '/Autodiscover/AutodiscoverService.svc/root/user') {
      response.end(JSON.stringify({ AccessLocation: 'External', SipClientExternalAccess: { fqdn: 'pool1.example.test', port: String(ocs.port) } }));
    } else {
      response.statusCode = 404;
      response.end('{}');
    }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  dnsmasq = await startDnsmasq({
    srv: [
      { name: '_sipinternaltls._tcp.srv.test', target: 'pool1.example.test', port: ocs.port },
      { name: '_sip._tcp.srv.test', target: 'pool1.example.test', port: 5060 },
    ],
    a: {
      'pool1.example.test': '127.0.0.1',
      'sipinternal.example.test': '127.0.0.1',
      'lyncdiscover.auto.test': '127.0.0.1',
      'lyncdiscoverinternal.bad.test': '127.0.0.1',
    },
  });
});
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});
afterAll(async () => {
  await dnsmasq?.stop();
  await ocs?.close();
  web?.close();
});

async function collect(domain: string, transport: 'auto' | 'tls' | 'tcp', limit = 10) {
  const progress: string[] = [];
  const found: ServerCandidate[] = [];
  for await (const candidate of discoverServers({
    domain,
    signInAddress: `alice@${domain}`,
    transport,
    net: createNet({ proxy: { mode: 'none' }, dnsServers: [dnsmasq.server] }, { trustCertificate: async () => false }),
    progress: (text) => progress.push(text),
    log: { debug: () => undefined, warn: () => undefined },
    autodiscoverPorts: { https: closedPort, http: webPort },
    hostFallbacks: [
      { prefix: 'sipinternal', port: ocs.port },
      { prefix: 'sipexternal', port: 443 },
      { prefix: 'sip', port: 443 },
    ],
    timeoutMs: 2000,
  })) {
    found.push(candidate);
    if (found.length >= limit) break;
  }
  return { progress, found };
}

describe('discovery order against dnsmasq', () => {
  it('asks autodiscover, then the SRV records matching the transport, then host names, then the domain', async () => {
    const { progress, found } = await collect('srv.test', 'tls');
    expect(progress).toEqual([
      'Looking up the server: Lync autodiscover at https://LyncDiscoverInternal.srv.test',
      'Looking up the server: Lync autodiscover at http://LyncDiscoverInternal.srv.test',
      'Looking up the server: Lync autodiscover at https://LyncDiscover.srv.test',
      'Looking up the server: Lync autodiscover at http://LyncDiscover.srv.test',
      'Looking up the server: DNS SRV _sipinternaltls._tcp.srv.test',
      'Looking up the server: DNS SRV _sip._tls.srv.test',
      'Looking up the server: sipinternal.srv.test',
      'Looking up the server: sipexternal.srv.test',
      'Looking up the server: sip.srv.test',
      'Looking up the server: srv.test',
    ]);
    expect(found).toEqual([
      { host: 'pool1.example.test', port: ocs.port, transport: 'tls', source: 'DNS SRV _sipinternaltls._tcp.srv.test' },
      { host: 'srv.test', port: 5061, transport: 'tls', source: 'the domain srv.test' },
    ]);
  });

  it('with TCP only asks the TCP services and skips autodiscover', async () => {
    const { progress, found } = await collect('srv.test', 'tcp');
    expect(progress.filter((p) => p.includes('SRV'))).toEqual(['Looking up the server: DNS SRV _sipinternal._tcp.srv.test', 'Looking up the server: DNS SRV _sip._tcp.srv.test']);
    expect(progress.some((p) => p.includes('autodiscover'))).toBe(false);
    expect(found[0]).toEqual({ host: 'pool1.example.test', port: 5060, transport: 'tcp', source: 'DNS SRV _sip._tcp.srv.test' });
  });

  it('falls back to sipinternal.<domain> when there are no SRV records', async () => {
    const { found } = await collect('example.test', 'auto', 1);
    expect(found).toEqual([{ host: 'sipinternal.example.test', port: ocs.port, transport: 'tls', source: 'host name sipinternal.example.test' }]);
  });

  it('follows Lync autodiscover to the SIP access point', async () => {
    const { found, progress } = await collect('auto.test', 'auto', 1);
    expect(found).toEqual([{ host: 'pool1.example.test', port: ocs.port, transport: 'tls', source: `autodiscover lyncdiscover.auto.test:${webPort} (external)` }]);
    expect(progress.at(-1)).toBe('Looking up the server: Lync autodiscover at http://LyncDiscover.auto.test');
  });

  it('survives a broken autodiscover service and goes on with DNS', async () => {
    const { found, progress } = await collect('bad.test', 'auto');
    expect(found).toEqual([{ host: 'bad.test', port: 5061, transport: 'tls', source: 'the domain bad.test' }]);
    expect(progress).toContain('Looking up the server: DNS SRV _sipinternaltls._tcp.bad.test');
  });
});

describe('signing in with discovery through Parley', () => {
  const env = () => ({
    autodiscoverPorts: { https: closedPort, http: webPort },
    hostFallbacks: [
      { prefix: 'sipinternal', port: ocs.port },
      { prefix: 'sipexternal', port: closedPort },
      { prefix: 'sip', port: closedPort },
    ],
  });

  it.each([
    ['DNS SRV', 'alice@srv.test', 'alice1', 'pw-one'],
    ['the sipinternal host-name fallback', 'alice@example.test', 'alice2', 'pw-two'],
    ['Lync autodiscover', 'alice@auto.test', 'alice3', 'pw-three'],
  ])('finds the server via %s and signs in', async (_how, username, login, password) => {
    t = await startParley(env(), [dnsmasq.server]);
    const account = await t.parley.accounts.add({ protocol: 'ocs', username, settings: { login }, secrets: { password } });
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(ocs.events.some((e) => e.kind === 'registered' && e.detail === username)).toBe(true);
  });

  it('resolves a configured server name with the configured DNS servers', async () => {
    t = await startParley({}, [dnsmasq.server]);
    const account = await t.parley.accounts.add({
      protocol: 'ocs',
      username: 'alice@srv.test',
      settings: { login: 'alice1', server: `pool1.example.test:${ocs.port}`, transport: 'tls' },
      secrets: { password: 'pw-one' },
    });
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
  });
});
