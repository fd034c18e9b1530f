/**
 * Dante (Debian's `dante-server`), a real SOCKS5 proxy, on a free loopback
 * port. It connects onward from its own loopback address (`egress`,
 * 127.0.0.3), so a destination server that sees a client from there knows
 * the connection came through the proxy; a direct one comes from 127.0.0.1.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { danteConfig, danteDaemon, PROXY_EGRESS } from './dante-config.mjs';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts } from './process.js';

export { PROXY_EGRESS };

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

/**
 * Dante checks `username` logins against the system's accounts: each proxy
 * started with `auth` gets its own throwaway account with a fresh password,
 * so proxies of test files running at the same time never share one (a
 * second start would otherwise change the first one's password under it).
 */
function createAccount(): { username: string; password: string } {
  const username = `parleyp${randomBytes(4).toString('hex')}`;
  const password = randomBytes(9).toString('base64url');
  // useradd and chpasswd lock /etc/passwd and /etc/shadow; another start may hold the lock a moment.
  runWithLockRetry('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', username], undefined, 'create the proxy test account');
  runWithLockRetry('chpasswd', [], `${username}:${password}\n`, "set the proxy test account's password");
  return { username, password };
}

function removeAccount(username: string): void {
  runWithLockRetry('userdel', [username], undefined, 'remove the proxy test account');
}

function runWithLockRetry(command: string, args: string[], input: string | undefined, what: string): void {
  // Other test files (and other checkouts on the machine) add and remove accounts at the same time.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const done = spawnSync(command, args, { input, encoding: 'utf8' });
    if (done.status === 0) return;
    if (!/lock/i.test(done.stderr) || Date.now() > deadline) throw new Error(`cannot ${what}: ${done.stderr}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

export async function startDante(options: DanteOptions = {}): Promise<DanteServer> {
  return inTempDir('parley-dante-', async (dir) => {
    const account = options.auth === true ? createAccount() : undefined;
    try {
      return await withFreePorts(1, async ([port]) => {
        const conf = join(dir, 'danted.conf');
        writeFileSync(conf, danteConfig({ port, auth: account !== undefined }));
        const server = await spawnDaemon(danteDaemon(conf, port));
        const { output, stop, close } = daemonControls(server, dir, () => account !== undefined && removeAccount(account.username));
        return {
          host: '127.0.0.1' as const,
          port,
          username: account?.username,
          password: account?.password,
          url(scheme: 'socks5' | 'socks5h' | 'socks4' = 'socks5', credentials?: { username: string; password: string }) {
            const user = credentials ?? account;
            const auth = user === undefined ? '' : `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`;
            return `${scheme}://${auth}127.0.0.1:${port}`;
          },
          log: output,
          stop,
          close,
        };
      });
    } catch (error) {
      if (account !== undefined) removeAccount(account.username);
      throw error;
    }
  });
}
