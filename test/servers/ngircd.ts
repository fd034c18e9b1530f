import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, sleep, stopAndRelease } from './process.js';
import { createTestCertificates, type TestCertificates } from './test-ca.js';

export { freePort };

export interface NgircdOptions {
  /** Server name (must contain a dot). */
  name?: string;
  /** Longest nick the server accepts (RFC 2812 says 9; modern networks allow more). */
  maxNickLength?: number;
  /** Extra lines appended to the [Options] section. */
  extraOptions?: readonly string[];
}

export interface NgircdServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly tlsPort: number;
  readonly certificates: TestCertificates;
  readonly dir: string;
  /** Everything ngircd wrote to stdout/stderr, for failing tests' messages. */
  output(): string;
  /** Stops the server (clients see their connection drop). */
  stop(): Promise<void>;
  /** Starts it again on the same ports after `stop()`. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}


/**
 * Starts Debian's ngircd in the foreground (`-n`) on two free loopback ports,
 * one plain and one TLS with a certificate from a throwaway test CA. PAM,
 * Ident and DNS are off so registration is immediate, and penalties are off
 * (`MaxPenaltyTime = 0`) so a JOIN does not cost a second. Running as root,
 * ngircd switches to `nobody`: every file it reads is world-readable.
 */
export async function startNgircd(options: NgircdOptions = {}): Promise<NgircdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ngircd-'));
  chmodSync(dir, 0o755);
  const certificates = createTestCertificates(join(dir, 'tls'));
  chmodSync(certificates.dir, 0o755);
  chmodSync(certificates.keyPath, 0o644);
  chmodSync(certificates.certPath, 0o644);
  const includeDir = join(dir, 'conf.d');
  mkdirSync(includeDir, { mode: 0o755 });
  const motd = join(dir, 'motd');
  writeFileSync(motd, 'Parley test server\n', { mode: 0o644 });

  const port = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === port) tlsPort = await freePort();

  const conf = join(dir, 'ngircd.conf');
  writeFileSync(
    conf,
    [
      '[Global]',
      `  Name = ${options.name ?? 'irc.parley.test'}`,
      '  Info = Parley test server',
      '  Listen = 127.0.0.1',
      `  Ports = ${port}`,
      `  MotdFile = ${motd}`,
      '[Limits]',
      '  MaxConnectionsIP = 0',
      '  MaxJoins = 0',
      `  MaxNickLength = ${options.maxNickLength ?? 30}`,
      '  MaxPenaltyTime = 0',
      '  PingTimeout = 120',
      '  PongTimeout = 20',
      '[Options]',
      '  PAM = no',
      '  Ident = no',
      '  DNS = no',
      '  RequireAuthPing = no',
      `  IncludeDir = ${includeDir}`,
      ...(options.extraOptions ?? []).map((l) => `  ${l}`),
      '[SSL]',
      `  CertFile = ${certificates.certPath}`,
      `  KeyFile = ${certificates.keyPath}`,
      `  Ports = ${tlsPort}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );

  let child: ChildProcess | undefined;
  let log = '';

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const proc = spawn('ngircd', ['-n', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      if (child === proc) child = undefined;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`ngircd exited during start:\n${log}`);
      if ((await accepts(port)) && (await accepts(tlsPort))) return;
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`ngircd did not listen on ${port}/${tlsPort} in time:\n${log}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    await stopAndRelease(proc, [port, tlsPort]);
    child = undefined;
  };

  await start();

  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    certificates,
    dir,
    output: () => log,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
