import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonControls, freePort, inTempDir, spawnDaemon, withFreePorts, type RestartableServer } from './process.js';
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

/** ngircd's stdout/stderr are its `output()`. */
export interface NgircdServer extends RestartableServer {
  /** TLS client port, certificate from the test CA. */
  readonly tlsPort: number;
  readonly certificates: TestCertificates;
}


/**
 * Starts Debian's ngircd in the foreground (`-n`) on two free loopback ports,
 * one plain and one TLS with a certificate from a throwaway test CA. PAM,
 * Ident and DNS are off so registration is immediate, and penalties are off
 * (`MaxPenaltyTime = 0`) so a JOIN does not cost a second. Running as root,
 * ngircd switches to `nobody`: every file it reads is world-readable.
 */
export async function startNgircd(options: NgircdOptions = {}): Promise<NgircdServer> {
  return inTempDir('parley-ngircd-', async (dir) => {
    chmodSync(dir, 0o755);
    const certificates = createTestCertificates(join(dir, 'tls'));
    chmodSync(certificates.dir, 0o755);
    chmodSync(certificates.keyPath, 0o644);
    chmodSync(certificates.certPath, 0o644);
    const includeDir = join(dir, 'conf.d');
    mkdirSync(includeDir, { mode: 0o755 });
    const motd = join(dir, 'motd');
    writeFileSync(motd, 'Parley test server\n', { mode: 0o644 });
    // Without a DHFile ngircd generates 2048-bit DH parameters at every start: seconds of CPU.
    // The standard RFC 7919 group instead, written by openssl at once.
    const dhFile = join(dir, 'dhparams.pem');
    execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', dhFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    chmodSync(dhFile, 0o644);

    return withFreePorts(2, async ([port, tlsPort]) => {
      const conf = join(dir, 'ngircd.conf');
      writeFileSync(conf, ngircdConfig(options, { port, tlsPort, motd, includeDir, certificates, dhFile }), { mode: 0o644 });
      const server = await spawnDaemon({ name: 'ngircd', command: 'ngircd', args: ['-n', '-f', conf], ports: [port, tlsPort] });
      return { host: '127.0.0.1' as const, port, tlsPort, certificates, dir, ...daemonControls(server, dir) };
    });
  });
}

interface NgircdPaths {
  port: number;
  tlsPort: number;
  motd: string;
  includeDir: string;
  certificates: TestCertificates;
  dhFile: string;
}

function ngircdConfig(options: NgircdOptions, { port, tlsPort, motd, includeDir, certificates, dhFile }: NgircdPaths): string {
  return [
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
    `  DHFile = ${dhFile}`,
    `  Ports = ${tlsPort}`,
    '',
  ].join('\n');
}
