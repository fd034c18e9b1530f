/**
 * Finding the SIP server for a sign-in domain, in the order Lync clients and
 * pidgin-sipe use:
 *  1. Lync autodiscover ([MS-OCDISCWS] 3.1): LyncDiscoverInternal.<domain>,
 *     then LyncDiscover.<domain>, each over HTTPS then HTTP, following the
 *     `user` / `redirect` links to the SIP access endpoints;
 *  2. DNS SRV (RFC 3263 4.1 plus Microsoft's internal names), only those
 *     matching the connection type;
 *  3. well-known host names (Microsoft KB 2619522), then the domain itself.
 * Every host is resolved with the configured DNS servers, and every request
 * goes through the core's network layer (the account's proxy); behind a
 * socks5h proxy nothing is looked up here.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Net } from '@parley/core';
import type { TransportChoice } from './options.js';

export interface ServerCandidate {
  /** Host name (for the certificate check). */
  host: string;
  port: number;
  transport: 'tls' | 'tcp';
  /** Where it came from, for progress and logs. */
  source: string;
}

export interface DiscoveryOptions {
  domain: string;
  signInAddress: string;
  transport: TransportChoice;
  /** The core's network layer: SRV and address lookups, agents for the autodiscover requests. */
  net: Pick<Net, 'resolveSrv' | 'lookup' | 'agentFor' | 'remoteDns'>;
  progress: (text: string) => void;
  /** `warn` gets what the user should hear about: a broken autodiscover service (a loop, endless redirects). */
  log: { debug(message: string): void; warn(message: string): void };
  signal?: AbortSignal;
  /** Ports of the autodiscover web service (443 / 80 outside tests). */
  autodiscoverPorts?: { https: number; http: number };
  /** Host-name fallbacks and their ports. */
  hostFallbacks?: ReadonlyArray<{ prefix: string; port: number }>;
  timeoutMs?: number;
}

export const SRV_SERVICES: ReadonlyArray<{ name: string; transport: 'tls' | 'tcp' }> = [
  { name: '_sipinternaltls._tcp', transport: 'tls' },
  { name: '_sipinternal._tcp', transport: 'tcp' },
  { name: '_sip._tls', transport: 'tls' },
  { name: '_sip._tcp', transport: 'tcp' },
];

export const HOST_FALLBACKS: ReadonlyArray<{ prefix: string; port: number }> = [
  { prefix: 'sipinternal', port: 5061 },
  { prefix: 'sipexternal', port: 443 },
  { prefix: 'sip', port: 443 },
];

interface HttpResult {
  status: number;
  body: string;
  location: string | undefined;
}

function httpGet(url: URL, options: DiscoveryOptions): Promise<HttpResult> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      {
        agent: options.net.agentFor(url),
        timeout: options.timeoutMs ?? 5000,
        headers: { Accept: 'application/vnd.microsoft.rtc.autodiscover+json;v=1' },
        signal: options.signal,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > 256 * 1024) request.destroy(new Error('autodiscover answer too large'));
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, location: response.headers.location }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('autodiscover timed out')));
    request.on('error', reject);
  });
}

interface AutodiscoverDocument {
  _links?: Record<string, { href?: unknown } | undefined>;
  SipClientInternalAccess?: { fqdn?: unknown; port?: unknown };
  SipClientExternalAccess?: { fqdn?: unknown; port?: unknown };
}

function accessPoint(value: { fqdn?: unknown; port?: unknown } | undefined, source: string): ServerCandidate | undefined {
  if (!value || typeof value.fqdn !== 'string' || !/^[A-Za-z0-9.-]+$/.test(value.fqdn)) return undefined;
  const port = Number(value.port ?? 443);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: value.fqdn, port, transport: 'tls', source };
}

/** Requests one autodiscover look-up may make, HTTP redirects and links together. */
export const MAX_AUTODISCOVER_REQUESTS = 10;

/** An autodiscover service that cannot give an answer: a redirect loop, or redirects that never end. */
class AutodiscoverLoop {
  constructor(readonly reason: string) {}
}

/**
 * Follows the autodiscover answers from one start URL: HTTP redirects, then
 * the `redirect` link (the service of another domain) or the `user` link
 * (this user's resource), until an answer names SIP access points. A URL
 * asked for before is a loop; more than MAX_AUTODISCOVER_REQUESTS requests
 * is a chain that does not end. Both are reported, not retried.
 */
async function autodiscoverFrom(start: URL, options: DiscoveryOptions): Promise<ServerCandidate[] | AutodiscoverLoop> {
  let url = start;
  const asked = new Set<string>();
  for (let request = 0; request < MAX_AUTODISCOVER_REQUESTS; request++) {
    asked.add(url.href);
    const result = await httpGet(url, options);
    let next: string | undefined;
    if (result.status >= 300 && result.status < 400 && result.location) {
      next = result.location;
    } else if (result.status !== 200) {
      options.log.debug(`Autodiscover ${url.href}: HTTP ${result.status}`);
      return [];
    } else {
      let document: AutodiscoverDocument;
      try {
        document = JSON.parse(result.body) as AutodiscoverDocument;
      } catch {
        options.log.debug(`Autodiscover ${url.href}: not JSON`);
        return [];
      }
      if (typeof document !== 'object' || document === null) return [];
      const found = [
        accessPoint(document.SipClientInternalAccess, `autodiscover ${url.host} (internal)`),
        accessPoint(document.SipClientExternalAccess, `autodiscover ${url.host} (external)`),
      ].filter((c): c is ServerCandidate => c !== undefined);
      if (found.length > 0) return found;
      const link = document._links?.redirect?.href ?? document._links?.user?.href;
      if (typeof link !== 'string') return [];
      next = link;
    }
    const target = new URL(next, url);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      options.log.debug(`Autodiscover ${url.href}: not following ${target.protocol} link`);
      return [];
    }
    if (asked.has(target.href)) return new AutodiscoverLoop(`redirected in a loop (back to ${target.href.split('?')[0]})`);
    url = target;
  }
  return new AutodiscoverLoop(`too many redirects (more than ${MAX_AUTODISCOVER_REQUESTS})`);
}

/** Candidates in order; lazily, so a working early one saves the later look-ups. */
export async function* discoverServers(options: DiscoveryOptions): AsyncGenerator<ServerCandidate> {
  const { domain, transport } = options;
  const wanted = (t: 'tls' | 'tcp') => transport === 'auto' || transport === t;

  const ports = options.autodiscoverPorts ?? { https: 443, http: 80 };
  if (wanted('tls')) {
    for (const prefix of ['LyncDiscoverInternal', 'LyncDiscover']) {
      for (const scheme of ['https', 'http'] as const) {
        const host = `${prefix}.${domain}`;
        options.progress(`Looking up the server: Lync autodiscover at ${scheme}://${host}`);
        try {
          const start = new URL(`${scheme}://${host}:${ports[scheme]}/?sipuri=${encodeURIComponent(`sip:${options.signInAddress}`)}`);
          const found = await autodiscoverFrom(start, options);
          if (found instanceof AutodiscoverLoop) {
            options.log.warn(`Lync autodiscover at ${scheme}://${host}: ${found.reason}`);
            continue;
          }
          for (const candidate of found) yield candidate;
          if (found.length > 0) break;
        } catch (error) {
          options.log.debug(`Autodiscover ${scheme}://${host}: ${(error as Error).message}`);
        }
      }
    }
  }

  if (options.net.remoteDns) options.log.debug('The proxy resolves names: no DNS SRV lookups, only host names');
  for (const service of SRV_SERVICES) {
    if (!wanted(service.transport) || options.net.remoteDns) continue;
    const name = `${service.name}.${domain}`;
    options.progress(`Looking up the server: DNS SRV ${name}`);
    // Sorted by priority; empty when there are none (or behind socks5h, where no lookup is made).
    const records = await options.net.resolveSrv(name);
    for (const record of records) {
      if (record.name === '' || record.name === '.') continue;
      yield { host: record.name, port: record.port, transport: service.transport, source: `DNS SRV ${name}` };
    }
  }

  const fallbackTransport = transport === 'tcp' ? 'tcp' : 'tls';
  for (const { prefix, port } of options.hostFallbacks ?? HOST_FALLBACKS) {
    const host = `${prefix}.${domain}`;
    options.progress(`Looking up the server: ${host}`);
    // Behind socks5h the proxy resolves names: try the host without asking local DNS whether it exists.
    if (options.net.remoteDns || (await options.net.lookup(host)) !== undefined) yield { host, port, transport: fallbackTransport, source: `host name ${host}` };
  }
  options.progress(`Looking up the server: ${domain}`);
  yield { host: domain, port: fallbackTransport === 'tls' ? 5061 : 5060, transport: fallbackTransport, source: `the domain ${domain}` };
}
