import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts, type RestartableServer } from './process.js';

export interface ZncOptions {
  /** The IRC server ZNC connects to, on 127.0.0.1. */
  upstreamPort: number;
  /** The ZNC user, also its nick upstream. */
  user: string;
  password: string;
  /** Channels ZNC joins upstream for the user. */
  channels?: readonly string[];
}

export interface ZncServer extends RestartableServer {
  /** The server password a client signs in with: `user/network:password`. */
  readonly clientPassword: string;
}

/**
 * Starts Debian's ZNC 1.8 (an IRC bouncer) in the foreground with its own
 * data folder, one user with one network (`test`) pointing at
 * 127.0.0.1:`upstreamPort`, and a plain listener on a free loopback port.
 * Buffers as shipped: a channel's and a query's buffer is played back to
 * the next client that attaches (with server-time) and then cleared.
 * Ready once it accepts on its port.
 */
export async function startZnc(options: ZncOptions): Promise<ZncServer> {
  return inTempDir('parley-znc-', async (dir) => {
    mkdirSync(join(dir, 'configs'), { recursive: true });
    const salt = randomBytes(10).toString('hex');
    // ZNC's "sha256" method: SHA-256 of the password followed by the salt.
    const hash = createHash('sha256').update(options.password + salt).digest('hex');
    return withFreePorts(1, async ([port]) => {
      writeFileSync(
        join(dir, 'configs', 'znc.conf'),
        [
          'Version = 1.8.2',
          '<Listener listener0>',
          '\tAllowIRC = true',
          '\tAllowWeb = false',
          '\tHost = 127.0.0.1',
          '\tIPv4 = true',
          '\tIPv6 = false',
          `\tPort = ${port}`,
          '\tSSL = false',
          '</Listener>',
          `<User ${options.user}>`,
          '\t<Pass password>',
          '\t\tMethod = sha256',
          `\t\tHash = ${hash}`,
          `\t\tSalt = ${salt}`,
          '\t</Pass>',
          '\tAdmin = true',
          `\tNick = ${options.user}`,
          `\tAltNick = ${options.user}_`,
          `\tIdent = ${options.user}`,
          `\tRealName = ${options.user}`,
          '\tAutoClearChanBuffer = true',
          '\tAutoClearQueryBuffer = true',
          '\t<Network test>',
          `\t\tServer = 127.0.0.1 ${options.upstreamPort}`,
          ...(options.channels ?? []).flatMap((channel) => [`\t\t<Chan ${channel}>`, '\t\t</Chan>']),
          '\t</Network>',
          '</User>',
          '',
        ].join('\n'),
      );
      // As root ZNC waits 30 s after a warning: it runs as nobody, owning its data folder.
      const owner = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
      if (owner !== undefined) for (const path of [dir, join(dir, 'configs'), join(dir, 'configs', 'znc.conf')]) chownSync(path, owner.uid, owner.gid);
      const server = await spawnDaemon({
        name: 'znc',
        command: 'znc',
        args: ['--foreground', '--no-color', '--datadir', dir],
        spawnOptions: { cwd: dir, env: { ...process.env, HOME: dir }, ...(owner ?? {}) },
        ports: [port],
      });
      return { host: '127.0.0.1' as const, port, clientPassword: `${options.user}/test:${options.password}`, dir, ...daemonControls(server, dir) };
    });
  });
}
