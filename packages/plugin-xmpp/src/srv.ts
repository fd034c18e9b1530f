import type { Net } from '@parley/core';
import type { Security } from './options.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** Default ports: RFC 6120 §3.2.1 (5222) and XEP-0368 (5223 for direct TLS). */
export function defaultPort(security: Security): number {
  return security === 'tls' ? 5223 : 5222;
}

/**
 * Where to connect (RFC 6120 §3.2.1): the account's override, else the
 * domain's SRV records (`_xmpps-client` for direct TLS per XEP-0368, else
 * `_xmpp-client`), lowest priority first, else the domain itself.
 */
export async function resolveEndpoints(domain: string, override: { server: string; port: number }, security: Security, net: Pick<Net, 'resolveSrv'>): Promise<Endpoint[]> {
  const fallbackPort = override.port > 0 ? override.port : defaultPort(security);
  if (override.server !== '') return [{ host: override.server, port: fallbackPort }];
  const service = security === 'tls' ? '_xmpps-client' : '_xmpp-client';
  // No records (or a failed lookup, or a socks5h proxy that resolves names itself): the domain's address records.
  const records = await net.resolveSrv(`${service}._tcp.${domain}`);
  // "." as target means the service is decidedly not available (RFC 2782).
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  if (records.length > 0 && usable.length === 0) return [];
  if (usable.length > 0) return usable.map((r) => ({ host: r.name, port: override.port > 0 ? override.port : r.port }));
  return [{ host: domain, port: fallbackPort }];
}
