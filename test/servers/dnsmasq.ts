/**
 * dnsmasq as a real DNS server on a free loopback port, serving only the
 * records a test gives it (SRV and A), for service-discovery tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { promises as dns } from 'node:dns';

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

async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    try {
      return await launch(port, records);
    } catch (error) {
      // Another process may have taken the port between the probe and the start.
      if (attempt >= 3) throw error;
    }
  }
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

  let output = '';
  const child: ChildProcess = spawn('dnsmasq', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  // Ready when it answers a query (any answer, even "not found").
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const deadline = Date.now() + 5000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${output.slice(-1000)}`);
    const answered = await resolver.resolve4('ready.invalid').then(
      () => true,
      (error: NodeJS.ErrnoException) => error.code !== 'ETIMEOUT' && error.code !== 'ECONNREFUSED',
    );
    if (answered) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dnsmasq did not answer on port ${port}: ${output.slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    server: `127.0.0.1:${port}`,
    log: () => output,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
