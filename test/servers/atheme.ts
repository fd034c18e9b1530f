import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InspircdServer } from './inspircd.js';

export interface AthemeServices {
  readonly dir: string;
  /** Everything Atheme logged, for failing tests' messages. */
  output(): string;
  /**
   * Registers `nick` as an account with `password`, the way a user does: a
   * client connects, sends `NickServ REGISTER` and waits for the answer.
   */
  register(nick: string, password: string): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts Debian's Atheme 7.2 services linked to an InspIRCd from
 * inspircd.ts, through Atheme's `inspircd` protocol module and the link
 * password the server was configured with. Loaded: NickServ (REGISTER,
 * IDENTIFY) and SaslServ with PLAIN, accounts in a flat-file (opensex)
 * database in a fresh directory. Resolves once Atheme has finished its burst
 * and the server answered it, i.e. when SASL requests are relayed.
 */
export async function startAtheme(ircd: InspircdServer): Promise<AthemeServices> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-atheme-'));
  const conf = join(dir, 'atheme.conf');
  const servicesHost = ircd.services.name;
  writeFileSync(
    conf,
    [
      'loadmodule "modules/protocol/inspircd";',
      'loadmodule "modules/backend/opensex";',
      'loadmodule "modules/crypto/pbkdf2v2";',
      'loadmodule "modules/nickserv/main";',
      'loadmodule "modules/nickserv/help";',
      'loadmodule "modules/nickserv/register";',
      'loadmodule "modules/nickserv/identify";',
      'loadmodule "modules/saslserv/main";',
      'loadmodule "modules/saslserv/plain";',
      'serverinfo {',
      `  name = "${servicesHost}";`,
      '  desc = "Parley test services";',
      '  numeric = "0PS";',
      '  recontime = 1;',
      '  netname = "ParleyTest";',
      '  hidehostsuffix = "users.parley.test";',
      '  adminname = "Parley";',
      '  adminemail = "parley@parley.test";',
      '  registeremail = "noreply@parley.test";',
      '  mta = "/bin/false";',
      '  loglevel = { error; info; admin; network; };',
      '  maxlogins = 5;',
      '  maxusers = 5;',
      '  mdlimit = 30;',
      '  emaillimit = 10;',
      '  emailtime = 300;',
      '  auth = none;',
      '  casemapping = rfc1459;',
      '};',
      `uplink "${ircd.name}" {`,
      '  host = "127.0.0.1";',
      `  password = "${ircd.services.password}";`,
      `  port = ${ircd.linkPort};`,
      '};',
      `nickserv { nick = "NickServ"; user = "NickServ"; host = "${servicesHost}"; real = "Nickname Services"; maxnicks = 5; expire = 0; };`,
      `saslserv { nick = "SaslServ"; user = "SaslServ"; host = "${servicesHost}"; real = "SASL Authentication Agent"; };`,
      // Tests register several accounts within seconds from one address.
      'general { commit_interval = 1; flood_msgs = 0; flood_time = 10; ratelimit_uses = 1000; ratelimit_period = 60; kline_time = 7; language = "en"; };',
      '',
    ].join('\n'),
  );

  let log = '';
  let child: ChildProcess | undefined;
  const proc = spawn('atheme-services', ['-n', '-c', conf, '-D', dir, '-l', join(dir, 'atheme.log'), '-p', join(dir, 'atheme.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    child = undefined;
  });
  const deadline = Date.now() + 15_000;
  // "finished synching with uplink" follows the PONG to Atheme's end-of-burst PING.
  while (!/finished synching with uplink/.test(log)) {
    if (exited) throw new Error(`atheme exited during start:\n${log}\n${ircd.output()}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`atheme did not link to ${ircd.name} in time:\n${log}\n${ircd.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    const done = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(timer);
  };

  return {
    dir,
    output: () => log,
    register: (nick, password) => registerAccount(ircd.port, nick, password),
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A plain client that registers its nick with NickServ, then quits. */
function registerAccount(port: number, nick: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const seen: string[] = [];
    let pending = '';
    const timer = setTimeout(() => finish(new Error(`NickServ did not register ${nick}:\n${seen.join('\n')}`)), 15_000);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        seen.push(line);
        if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
        else if (/^\S+ 001 /.test(line)) socket.write(`PRIVMSG NickServ :REGISTER ${password} ${nick}@parley.test\r\n`);
        else if (/^:NickServ!\S+ NOTICE /.test(line)) {
          if (/ is now registered /.test(line)) {
            socket.write('QUIT\r\n');
            finish();
          } else if (/already registered|invalid|cannot|not allowed|too many/i.test(line)) finish(new Error(`NickServ refused to register ${nick}: ${line}`));
        }
      }
    });
    socket.once('connect', () => socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`));
  });
}
