/**
 * dnsmasq as a real DNS server on a free loopback port, serving only the
 * records a test gives it (SRV and A), for service-discovery tests.
 */
import { promises as dns } from 'node:dns';
import { spawnDaemon, withFreePorts } from './process.js';

export interface SrvRecord {
  /** e.g. "_sipinternaltls._tcp.example.test" */
  name: string;
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface DnsRecords {
  srv?: readonly SrvRecord[];
  /** Host name → IPv4 address. */
  a?: Readonly<Record<string, string>>;
}

export interface Dnsmasq {
  port: number;
  /** "127.0.0.1:<port>", as node:dns setServers and Parley's dnsServers take it. */
  server: string;
  log(): string;
  stop(): Promise<void>;
}

/** dnsmasq binds TCP and UDP on its port; withFreePorts tries again when either was taken. */
export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  return withFreePorts(1, ([port]) => launch(port, records));
}

async function launch(port: number, records: DnsRecords): Promise<Dnsmasq> {
  const args = [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--bind-interfaces',
    '--listen-address=127.0.0.1',
    `--port=${port}`,
    '--pid-file=',
    '--log-facility=-',
    '--log-queries',
    '--user=root',
  ];
  for (const srv of records.srv ?? []) args.push(`--srv-host=${srv.name},${srv.target},${srv.port},${srv.priority ?? 0},${srv.weight ?? 0}`);
  for (const [name, address] of Object.entries(records.a ?? {})) args.push(`--host-record=${name},${address}`);

  // Ready when it answers a query (any answer, even "not found").
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const answers = (): Promise<boolean> =>
    resolver.resolve4('ready.invalid').then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code !== 'ETIMEOUT' && error.code !== 'ECONNREFUSED',
    );
  const server = await spawnDaemon({ name: 'dnsmasq', command: 'dnsmasq', args, ports: [port], probe: answers, killAfterMs: 2_000 });
  return {
    port,
    server: `127.0.0.1:${port}`,
    log: server.output,
    stop: server.stop,
  };
}
