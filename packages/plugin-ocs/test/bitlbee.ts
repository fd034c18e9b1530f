/**
 * BitlBee (with libpurple and pidgin-sipe) as a headless SIPE client: an IRC
 * server on a free loopback port that we drive with a few IRC lines.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonControls, inTempDir, spawnDaemon, withFreePorts } from '../../../test/servers/process.js';


export interface BitlBee {
  port: number;
  stateDir: string;
  log: () => string;
  stop(): Promise<void>;
}

/**
 * Builds the test harness's preloaded shims into `dir` and returns them for
 * LD_PRELOAD: test/sipe-sax-shim.c (see there why pidgin-sipe needs it on
 * Debian 12's libxml2) and test/sipe-menu-shim.c (lets BitlBee's `chat with`
 * run pidgin-sipe's "New chat").
 */
function buildShims(dir: string): string {
  return ['sipe-sax-shim', 'sipe-menu-shim']
    .map((name) => {
      const out = join(dir, `${name}.so`);
      const source = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
      try {
        execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', out, source, '-ldl'], { stdio: 'pipe' });
      } catch (error) {
        throw new Error(`Could not build ${name}.c, which the pidgin-sipe tests preload (is a C compiler installed?): ${(error as Error).message}`);
      }
      return out;
    })
    .join(' ');
}

export async function startBitlBee(): Promise<BitlBee> {
  return inTempDir('ocs-bitlbee-', (stateDir) => {
    const shim = buildShims(stateDir);
    const conf = join(stateDir, 'bitlbee.conf');
    return withFreePorts(1, async ([port]) => {
      writeFileSync(conf, `[settings]\nRunMode = ForkDaemon\nDaemonInterface = 127.0.0.1\nDaemonPort = ${port}\nAuthMode = Open\nConfigDir = ${stateDir}\n`);
      // Line-buffered output, so the log is complete when a test reads it.
      const bee = await spawnDaemon({
        name: 'BitlBee',
        command: 'stdbuf',
        args: ['-oL', '-eL', 'bitlbee', '-F', '-n', '-v', '-c', conf, '-d', stateDir],
        spawnOptions: { env: { ...process.env, BITLBEE_DEBUG: '1', PURPLE_VERBOSE_DEBUG: '1', HOME: stateDir, LD_PRELOAD: shim } },
        ports: [port],
        killAfterMs: 3_000,
      });
      const { output, close } = daemonControls(bee, stateDir);
      return { port, stateDir, log: output, stop: close };
    });
  });
}

/** Trusts a server certificate for libpurple the way Pidgin remembers an accepted one. */
export function trustForPurple(bee: BitlBee, nick: string, host: string, pem: string): void {
  const dir = join(bee.stateDir, 'purple', nick, 'certificates', 'x509', 'tls_peers');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, host), pem);
}

/** A minimal IRC client for BitlBee's control channel. */
export class IrcControl {
  private buffer = '';
  readonly lines: string[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, i).replace(/\r$/, '');
        this.buffer = this.buffer.slice(i + 1);
        if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
        this.lines.push(line);
      }
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, nick: string): Promise<IrcControl> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const irc = new IrcControl(socket);
    socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
    await irc.waitFor(/ 001 /, 10_000);
    return irc;
  }

  /** Sends one IRC line as it is (CR and LF refused: a line is one command). */
  raw(line: string): void {
    if (/[\r\n]/.test(line)) throw new Error('An IRC line cannot contain line breaks');
    this.socket.write(`${line}\r\n`);
  }

  /** Sends a command to BitlBee's root user in &bitlbee. */
  say(text: string): void {
    this.socket.write(`PRIVMSG &bitlbee :${text}\r\n`);
  }

  /** The first line from `from` on (default: from the start) that matches. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let seen = from;
    for (;;) {
      for (; seen < this.lines.length; seen++) if (pattern.test(this.lines[seen]!)) return this.lines[seen]!;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern}; got:\n${this.lines.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.socket.end('QUIT :bye\r\n');
    this.socket.destroy();
  }
}

/** IRC lines BitlBee uses to relay contacts' messages and presence. */
export const relay = {
  /** A private message from a contact's nick: `:bob!bob@host PRIVMSG me :text`. */
  privmsgFrom: (nick: RegExp | string, text?: string) =>
    new RegExp(`^:${typeof nick === 'string' ? nick : nick.source}![^ ]+ PRIVMSG [^ ]+ :${text ? text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : ''}`),
  /** A contact came online: it joins the control channel. */
  joined: (nick: string) => new RegExp(`^:${nick}![^ ]+ JOIN :?&bitlbee`),
  /** A contact went away (BitlBee takes its voice) or came back (gives it). */
  voice: (nick: string, on: boolean) => new RegExp(`^:[^ ]+ MODE &bitlbee ${on ? '\\+' : '-'}v ${nick}`),
};

export function sendPrivmsg(irc: IrcControl, nick: string, text: string): void {
  irc.raw(`PRIVMSG ${nick} :${text}`);
}

/** pidgin-sipe's user agent when it presents itself as Office Communicator 2007 R2. */
export const OC_2007_R2 = 'UCCAPI/3.5.6907.0 OC/3.5.6907.0 (Microsoft Office Communicator 2007 R2)';

/**
 * Adds alice's SIPE account in BitlBee (NTLM over TLS to the test server on
 * `port`, presenting itself as OC 2007 R2) and signs it in. `before` lines go
 * to BitlBee's root user just before the account is switched on.
 */
export async function signInSipe(bee: BitlBee, irc: IrcControl, port: number, before: string[] = []): Promise<void> {
  irc.say('account add sipe alice@example.test,EXAMPLE\\\\alice Passw0rd');
  await irc.waitFor(/Account successfully added/i, 10_000);
  irc.say(`account sipe set server 127.0.0.1:${port}`);
  irc.say('account sipe set transport tls');
  irc.say('account sipe set authentication ntlm');
  irc.say(`account sipe set useragent "${OC_2007_R2}"`);
  for (const line of before) irc.say(line);
  irc.say('account sipe on');
  const line = await irc.waitFor(/sipe - (Logging in: Logged in|Login error|Couldn't log in)/i, 30_000);
  if (!/Logged in/.test(line)) throw new Error(`SIPE did not sign in: ${line}\n${bee.log().slice(-3000)}`);
}
