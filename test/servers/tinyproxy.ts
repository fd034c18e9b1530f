/**
 * tinyproxy, a real HTTP proxy (CONNECT with Basic authentication), on a
 * free loopback port. Like the Dante launcher, it connects onward from
 * PROXY_EGRESS (127.0.0.3), so the destination can tell a proxied client
 * from a direct one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROXY_EGRESS } from './dante.js';
import { accepts, freePort, sleep, stopAndRelease } from './process.js';

export interface TinyproxyOptions {
  /** Destination ports CONNECT may reach (tinyproxy refuses others with 403). */
  connectPorts: readonly number[];
  /** Require Basic authentication. */
  auth?: boolean;
}

export interface TinyproxyServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** `http://…` URL of this proxy, with the credentials when it has them. */
  url(credentials?: { username: string; password: string }): string;
  /** tinyproxy's log: a `Request … CONNECT host:port` line per tunnel. */
  log(): string;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function startTinyproxy(options: TinyproxyOptions): Promise<TinyproxyServer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tinyproxy-'));
  const port = await freePort();
  const username = options.auth === true ? 'parley' : undefined;
  const password = options.auth === true ? randomBytes(9).toString('base64url') : undefined;
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      `Bind ${PROXY_EGRESS}`,
      'Timeout 600',
      'MaxClients 50',
      'Allow 127.0.0.1',
      'LogLevel Connect',
      ...options.connectPorts.map((p) => `ConnectPort ${p}`),
      ...(username === undefined ? [] : [`BasicAuth ${username} ${password}`]),
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let running = true;
  child.once('exit', () => (running = false));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (!running) throw new Error(`tinyproxy exited during start:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tinyproxy did not listen on ${port} in time:\n${output}`);
    }
    await sleep(50);
  }
  const stop = async () => {
    if (running) await stopAndRelease(child, [port]);
  };
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    url(credentials) {
      const user = credentials ?? (username === undefined ? undefined : { username, password: password! });
      const auth = user === undefined ? '' : `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`;
      return `http://${auth}127.0.0.1:${port}`;
    },
    log: () => output,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
