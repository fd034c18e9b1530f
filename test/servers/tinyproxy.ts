/**
 * tinyproxy, a real HTTP proxy (CONNECT with Basic authentication), on a
 * free loopback port. Like the Dante launcher, it connects onward from
 * PROXY_EGRESS (127.0.0.3), so the destination can tell a proxied client
 * from a direct one.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_EGRESS } from './dante.js';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts } from './process.js';

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
  const username = options.auth === true ? 'parley' : undefined;
  const password = options.auth === true ? randomBytes(9).toString('base64url') : undefined;
  return inTempDir('parley-tinyproxy-', (dir) =>
    withFreePorts(1, async ([port]) => {
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
      const server = await spawnDaemon({ name: 'tinyproxy', command: 'tinyproxy', args: ['-d', '-c', conf], ports: [port] });
      const { output, stop, close } = daemonControls(server, dir);
      return {
        host: '127.0.0.1' as const,
        port,
        username,
        password,
        url(credentials?: { username: string; password: string }) {
          const user = credentials ?? (username === undefined ? undefined : { username, password: password! });
          const auth = user === undefined ? '' : `${encodeURIComponent(user.username)}:${encodeURIComponent(user.password)}@`;
          return `http://${auth}127.0.0.1:${port}`;
        },
        log: output,
        stop,
        close,
      };
    }),
  );
}
