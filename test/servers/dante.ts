/**
 * Dante (Debian's `dante-server`), a real SOCKS5 proxy, on a free loopback
 * port. It connects onward from its own loopback address (`egress`,
 * 127.0.0.3), so a destination server that sees a client from there knows
 * the connection came through the proxy; a direct one comes from 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort, sleep, stopAndRelease } from './process.js';

/** The address the proxies connect onward from. */
export const PROXY_EGRESS = '127.0.0.3';

export interface DanteOptions {
  /** Require SOCKS5 username/password authentication (RFC 1929), checked by Dante against a system account. */
  auth?: boolean;
}

export interface DanteServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The account the proxy accepts, when started with `auth`. */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `socks5://…` or `socks5h://…` URL of this proxy, with the credentials when it has them. */
  url(scheme?: 'socks5' | 'socks5h' | 'socks4', credentials?: { username: string; password: string }): string;
  /** Dante's log (one line per connection, with the destination). */
  log(): string;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Dante checks `username` logins against the system's accounts: one for the tests, with a fresh password per start. */
const PROXY_ACCOUNT = 'parleyproxy';

function ensureAccount(password: string): void {
  if (spawnSync('id', [PROXY_ACCOUNT], { stdio: 'ignore' }).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PROXY_ACCOUNT], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`cannot create the proxy test account: ${made.stderr}`);
  }
  const set = spawnSync('chpasswd', [], { input: `${PROXY_ACCOUNT}:${password}\n`, encoding: 'utf8' });
  if (set.status !== 0) throw new Error(`cannot set the proxy test account's password: ${set.stderr}`);
}

export async function startDante(options: DanteOptions = {}): Promise<DanteServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-dante-'));
  const port = await freePort();
  const password = options.auth === true ? randomBytes(9).toString('base64url') : undefined;
  if (password !== undefined) ensureAccount(password);
  const conf = join(dir, 'danted.conf');
  writeFileSync(
    conf,
    [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      `external: ${PROXY_EGRESS}`,
      `socksmethod: ${options.auth === true ? 'username' : 'none'}`,
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }',
      'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }',
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('danted', ['-f', conf, '-N', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let running = true;
  child.once('exit', () => (running = false));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (!running) throw new Error(`danted exited during start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`danted did not listen on ${port} in time:\n${output}`);
    }
    await sleep(50);
  }
  const stop = async () => {
    if (running) await stopAndRelease(child, [port]);
  };
  return {
    host: '127.0.0.1',
    port,
    username: password === undefined ? undefined : PROXY_ACCOUNT,
    password,
    url(scheme = 'socks5', credentials) {
      const user = credentials ?? (password === undefined ? undefined : { username: PROXY_ACCOUNT, password });
      const auth = user === undefined ? '' : `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`;
      return `${scheme}://${auth}127.0.0.1:${port}`;
    },
    log: () => output,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
