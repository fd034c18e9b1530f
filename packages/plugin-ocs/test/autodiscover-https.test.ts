/**
 * Lync autodiscover over HTTPS ([MS-OCDISCWS] 3.1), against a real TLS web
 * service trusted through the account's CAs and names served by dnsmasq:
 * the root answer's `user` link leads to the SIP access point, and the
 * account signs in to the test OCS server there; a chain of HTTP redirects
 * and a `redirect` link to another domain's service is followed; a redirect
 * loop and an endless chain end with an error that says so, and discovery
 * goes on with DNS.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionError } from '@parley/core';
import { PROXY_EGRESS, startDante } from '../../../test/servers/dante.js';
import { startDnsmasq, type Dnsmasq } from '../../../test/servers/dnsmasq.js';
import { createNet } from '@parley/core';
import { discoverServers, type ServerCandidate } from '../src/discovery.js';
import { startOcsServer, type OcsServer } from './ocs-server/server.js';
import { rejection, startParley, testCertificates, type TestParley } from './helpers.js';

let dnsmasq: Dnsmasq;
let ocs: OcsServer;
let secure: https.Server;
let plain: http.Server;
let httpsPort: number;
let httpPort: number;
/** Every request the web services saw: scheme, Host and path. */
const seen: string[] = [];
/** The address each request to the HTTPS service came from. */
const webPeers: string[] = [];
let t: TestParley | undefined;

/** What the HTTPS autodiscover service answers, by host and path. */
function answer(host: string, path: string, response: http.ServerResponse): void {
  const json = (body: unknown) => {
    response.setHeader('Content-Type', 'application/vnd.microsoft.rtc.autodiscover+json; v=1');
    response.end(JSON.stringify(body));
  };
  const redirect = (status: number, location: string) => {
    response.statusCode = status;
    response.setHeader('Location', location);
    response.end();
  };
  const base = (name: string) => `https://${name}:${httpsPort}`;
  const root = '/autodiscover/autodiscoverservice.svc/root';
  switch (`${host} ${path.split('?')[0]}`) {
    // Root → user → access points, as a Lync 2013 front end answers.
    case 'lyncdiscoverinternal.secure.test /':
      return json({ _links: { self: { href: `${base(host)}${root}` }, user: { href: `${base(host)}${root}/oauth/user` }, xframe: { href: `${base(host)}/xframe` } } });
    case `lyncdiscoverinternal.secure.test ${root}/oauth/user`:
      return json({ AccessLocation: 'Internal', SipClientInternalAccess: { fqdn: 'pool1.example.test', port: String(ocs.port) }, SipClientExternalAccess: { fqdn: 'sip.example.test', port: '1' } });
    // A moved service: 301 to another host, a `redirect` link to another domain's root, 302 to the user resource.
    case 'lyncdiscover.chain.test /':
      return redirect(301, `${base('lyncdiscover.chain.test')}/autodiscover`);
    case 'lyncdiscover.chain.test /autodiscover':
      return redirect(301, root);
    case `lyncdiscover.chain.test ${root}`:
      return json({ _links: { redirect: { href: `${base('lyncdiscover.moved.test')}${root}?sipuri=sip:alice@chain.test` } } });
    case `lyncdiscover.moved.test ${root}`:
      return json({ _links: { user: { href: `${root}/user` } } });
    case `lyncdiscover.moved.test ${root}/user`:
      return redirect(302, `${root}/user/v2`);
    case `lyncdiscover.moved.test ${root}/user/v2`:
      return json({ AccessLocation: 'External', SipClientExternalAccess: { fqdn: 'pool1.example.test', port: String(ocs.port) } });
    // Redirects that never end: a loop between two paths, and a chain of new paths.
    case 'lyncdiscoverinternal.loop.test /':
      return redirect(302, '/a');
    case 'lyncdiscoverinternal.loop.test /a':
      return json({ _links: { user: { href: '/b' } } });
    case 'lyncdiscoverinternal.loop.test /b':
      return redirect(307, '/a');
    default: {
      const step = /^lyncdiscoverinternal\.endless\.test \/(?:step(\d+))?$/.exec(`${host} ${path.split('?')[0]}`);
      if (step) return redirect(302, `/step${Number(step[1] ?? 0) + 1}`);
      response.statusCode = 404;
      response.end('{}');
    }
  }
}

beforeAll(async () => {
  const { key, cert } = testCertificates();
  ocs = await startOcsServer({
    users: [
      { address: 'alice@secure.test', login: 'alice1', password: 'pw-one' },
      { address: 'alice@chain.test', login: 'alice2', password: 'pw-two' },
      { address: 'alice@loop.test', login: 'alice3', password: 'pw-three' },
    ],
    tls: { key, cert },
  });
  secure = https.createServer({ key, cert }, (request, response) => {
    const host = (request.headers.host ?? '').split(':')[0]!.toLowerCase();
    seen.push(`https ${host} ${request.url}`);
    webPeers.push(request.socket.remoteAddress ?? '');
    answer(host, request.url ?? '/', response);
  });
  plain = http.createServer((request, response) => {
    seen.push(`http ${(request.headers.host ?? '').split(':')[0]!.toLowerCase()} ${request.url}`);
    response.statusCode = 404;
    response.end('{}');
  });
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  httpsPort = (secure.address() as AddressInfo).port;
  httpPort = (plain.address() as AddressInfo).port;
  const names = ['lyncdiscoverinternal.secure.test', 'lyncdiscover.chain.test', 'lyncdiscover.moved.test', 'lyncdiscoverinternal.loop.test', 'lyncdiscoverinternal.endless.test', 'pool1.example.test', 'sip.example.test'];
  dnsmasq = await startDnsmasq({ a: Object.fromEntries(names.map((n) => [n, '127.0.0.1'])) });
});
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
  seen.length = 0;
  webPeers.length = 0;
});
afterAll(async () => {
  await dnsmasq?.stop();
  await ocs?.close();
  secure?.close();
  plain?.close();
});

async function discover(domain: string, limit = 1) {
  const progress: string[] = [];
  const problems: string[] = [];
  const found: ServerCandidate[] = [];
  for await (const candidate of discoverServers({
    domain,
    signInAddress: `alice@${domain}`,
    transport: 'auto',
    net: createNet({ proxy: { mode: 'none' }, dnsServers: [dnsmasq.server], tlsCa: [testCertificates().caCert] }, { trustCertificate: async () => false }),
    progress: (text) => progress.push(text),
    log: { debug: () => undefined, warn: (text) => problems.push(text) },
    autodiscoverPorts: { https: httpsPort, http: httpPort },
    hostFallbacks: [],
    timeoutMs: 2000,
  })) {
    found.push(candidate);
    if (found.length >= limit) break;
  }
  return { progress, problems, found };
}

const environment = () => ({ autodiscoverPorts: { https: httpsPort, http: httpPort }, hostFallbacks: [] });

describe('Lync autodiscover over HTTPS', () => {
  it('follows the root answer to the user resource and takes its internal access point first', async () => {
    const { found, progress } = await discover('secure.test', 2);
    expect(found).toEqual([
      { host: 'pool1.example.test', port: ocs.port, transport: 'tls', source: `autodiscover lyncdiscoverinternal.secure.test:${httpsPort} (internal)` },
      { host: 'sip.example.test', port: 1, transport: 'tls', source: `autodiscover lyncdiscoverinternal.secure.test:${httpsPort} (external)` },
    ]);
    expect(progress).toEqual(['Looking up the server: Lync autodiscover at https://LyncDiscoverInternal.secure.test']);
    expect(seen).toEqual([
      'https lyncdiscoverinternal.secure.test /?sipuri=sip%3Aalice%40secure.test',
      'https lyncdiscoverinternal.secure.test /autodiscover/autodiscoverservice.svc/root/oauth/user',
    ]);
  });

  it('signs in to the pool autodiscover names, over TLS verified against the pool name', async () => {
    t = await startParley(environment(), [dnsmasq.server]);
    const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'alice@secure.test', settings: { login: 'alice1' }, secrets: { password: 'pw-one' } });
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
    expect(ocs.events).toContainEqual({ kind: 'registered', detail: 'alice@secure.test' });
    expect(seen.every((s) => s.startsWith('https '))).toBe(true);
  });

  it('through a SOCKS5 proxy with a password: the autodiscover requests and the SIP connection all come from the proxy, names resolved by the DNS servers Parley was given', async () => {
    // The password given in the URL goes to the secret store; each request has to fetch it from there.
    const dante = await startDante({ auth: true });
    try {
      t = await startParley(environment(), [dnsmasq.server]);
      const peersBefore = ocs.peers.length;
      const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'alice@secure.test', settings: { login: 'alice1', proxy: dante.url('socks5') }, secrets: { password: 'pw-one' } });
      await t.parley.accounts.connect(account.id);
      expect(t.parley.accounts.status(account.id).state).toBe('online');
      expect(seen.map((s) => s.split('?')[0])).toEqual(['https lyncdiscoverinternal.secure.test /', 'https lyncdiscoverinternal.secure.test /autodiscover/autodiscoverservice.svc/root/oauth/user']);
      expect(new Set(webPeers)).toEqual(new Set([PROXY_EGRESS]));
      expect(new Set(ocs.peers.slice(peersBefore))).toEqual(new Set([PROXY_EGRESS]));
      await expect.poll(() => new RegExp(`127\\.0\\.0\\.1\\.${httpsPort}\\b`).test(dante.log())).toBe(true);
    } finally {
      await t?.cleanup();
      t = undefined;
      await dante.close();
    }
  });

  it('follows a chain of HTTP redirects and a redirect link to another domain, then signs in', async () => {
    const { found } = await discover('chain.test');
    expect(found).toEqual([{ host: 'pool1.example.test', port: ocs.port, transport: 'tls', source: `autodiscover lyncdiscover.moved.test:${httpsPort} (external)` }]);
    expect(seen.filter((s) => s.startsWith('https lyncdiscover.')).map((s) => s.split('?')[0])).toEqual([
      'https lyncdiscover.chain.test /',
      'https lyncdiscover.chain.test /autodiscover',
      'https lyncdiscover.chain.test /autodiscover/autodiscoverservice.svc/root',
      'https lyncdiscover.moved.test /autodiscover/autodiscoverservice.svc/root',
      'https lyncdiscover.moved.test /autodiscover/autodiscoverservice.svc/root/user',
      'https lyncdiscover.moved.test /autodiscover/autodiscoverservice.svc/root/user/v2',
    ]);

    t = await startParley(environment(), [dnsmasq.server]);
    const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'alice@chain.test', settings: { login: 'alice2' }, secrets: { password: 'pw-two' } });
    await t.parley.accounts.connect(account.id);
    expect(t.parley.accounts.status(account.id).state).toBe('online');
  });

  it('stops a redirect loop at the first repeat and says so, then goes on with DNS', async () => {
    const { found, problems, progress } = await discover('loop.test');
    expect(problems).toEqual([expect.stringMatching(/^Lync autodiscover at https:\/\/LyncDiscoverInternal\.loop\.test: redirected in a loop \(back to https:\/\/lyncdiscoverinternal\.loop\.test:\d+\/a\)$/)]);
    expect(seen.filter((s) => s.startsWith('https lyncdiscoverinternal.loop.test')).map((s) => s.split(' ')[2]!.split('?')[0])).toEqual(['/', '/a', '/b']);
    expect(progress).toContain('Looking up the server: DNS SRV _sipinternaltls._tcp.loop.test');
    expect(found).toEqual([{ host: 'loop.test', port: 5061, transport: 'tls', source: 'the domain loop.test' }]);
  });

  it('stops an endless chain of redirects after ten requests and says so', async () => {
    const { problems } = await discover('endless.test');
    expect(problems).toEqual([expect.stringMatching(/^Lync autodiscover at https:\/\/LyncDiscoverInternal\.endless\.test: too many redirects \(more than 10\)$/)]);
    expect(seen.filter((s) => s.startsWith('https lyncdiscoverinternal.endless.test'))).toHaveLength(10);
  });

  it('a sign-in that finds no server tells what autodiscover ran into', async () => {
    t = await startParley(environment(), [dnsmasq.server]);
    const account = await t.parley.accounts.add({ protocol: 'ocs', username: 'alice@loop.test', settings: { login: 'alice3' }, secrets: { password: 'pw-three' } });
    const error = (await rejection(t.parley.accounts.connect(account.id))) as ConnectionError;
    expect(error.reason).toBe('network');
    expect(error.message).toMatch(/^Could not find a server for loop\.test: Lync autodiscover at https:\/\/LyncDiscoverInternal\.loop\.test: redirected in a loop/);
    expect(error.message).toContain('loop.test:5061');
  });
});
