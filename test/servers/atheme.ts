import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InspircdServer } from './inspircd.js';
import { registerWithNickServ } from './nickserv.js';
import { daemonControls, inTempDir, spawnDaemon } from './process.js';

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
  return inTempDir('parley-atheme-', async (dir) => {
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

    const services = await spawnDaemon({
      name: 'atheme',
      command: 'atheme-services',
      args: ['-n', '-c', conf, '-D', dir, '-l', join(dir, 'atheme.log'), '-p', join(dir, 'atheme.pid')],
      // "finished synching with uplink" follows the PONG to Atheme's end-of-burst PING.
      readyLine: /finished synching with uplink/,
      extraOutput: () => `\n--- ${ircd.name} ---\n${ircd.output()}`,
    });
    const { output, stop, close } = daemonControls(services, dir);
    return {
      dir,
      output,
      register: (nick: string, password: string) =>
        registerWithNickServ(ircd.port, nick, `REGISTER ${password} ${nick}@parley.test`, {
          accepted: / is now registered /,
          refused: /already registered|invalid|cannot|not allowed|too many/i,
        }),
      stop,
      close,
    };
  });
}
