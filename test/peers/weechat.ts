/**
 * WeeChat (Debian's `weechat-headless`) as an independent IRC client for
 * DCC tests: its xfer plugin sends and receives files (accepting offers by
 * itself, resuming a partial file with DCC RESUME), and it is driven
 * through its FIFO (`fifo` plugin). What it did is read from the log of its
 * core buffer (`logger` plugin, flushed at once), where xfer reports every
 * offer and its end ("xfer: file NAME received from NICK (ADDRESS): OK").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../helpers/wait.js';

export interface WeechatPeer {
  readonly nick: string;
  /** Where it saves received files (under their offered names: no nick prefix, spaces kept; "NAME.part" until complete). */
  readonly downloadDir: string;
  /** Runs a command in the IRC server's buffer (`/dcc send nick path`, `/msg …`). */
  command(line: string): void;
  /** Offers `path` to `nick` (DCC SEND from its own listener on 127.0.0.1). */
  sendFile(nick: string, path: string): void;
  /** Sets a WeeChat option and waits until WeeChat says it changed (`xfer.network.speed_limit_recv`, in KiB/s). */
  set(option: string, value: string): Promise<void>;
  /** Lines of its core buffer log so far. */
  log(): string[];
  /** Waits until a core log line matches, after `from` lines (so earlier transfers do not count). */
  waitForLog(pattern: RegExp, what: string, from?: number, ms?: number): Promise<string>;
  close(): Promise<void>;
}

const SERVER = 'parley';

export async function startWeechat(options: { port: number; nick: string }): Promise<WeechatPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-weechat-'));
  const home = join(dir, 'home');
  const downloadDir = join(dir, 'downloads');
  const logs = join(dir, 'logs');
  mkdirSync(home);
  mkdirSync(downloadDir);
  const fifo = join(dir, 'fifo');
  // Each /set is also a -r command: a path with ';' would split them, and mkdtemp never makes one.
  const setup = [
    `/set fifo.file.path ${fifo}`,
    `/set logger.file.path ${logs}`,
    '/set logger.file.flush_delay 0',
    '/set xfer.file.auto_accept_files on',
    '/set xfer.file.auto_resume on',
    '/set xfer.file.use_nick_in_filename off',
    '/set xfer.file.convert_spaces off',
    `/set xfer.file.download_path ${downloadDir}`,
    '/set xfer.network.own_ip 127.0.0.1',
    `/server add ${SERVER} 127.0.0.1/${options.port} -notls -nicks=${options.nick} -username=${options.nick}`,
    `/connect ${SERVER}`,
  ];
  const proc: ChildProcess = spawn('weechat-headless', ['-d', home, '--stdout', '-P', 'irc,xfer,fifo,logger', '-r', setup.join(';')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: dir, TERM: 'dumb' },
  });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  proc.once('exit', () => (exited = true));

  const coreLog = join(logs, 'core.weechat.weechatlog');
  const serverLog = join(logs, `irc.server.${SERVER}.weechatlog`);
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : []);

  const close = async () => {
    if (!exited) {
      const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Signed on once the server's welcome (001) is in the server buffer's log, and the FIFO is open.
    await until(() => {
      if (exited) throw new Error(`weechat-headless exited:\n${output}`);
      return existsSync(fifo) && read(serverLog).some((line) => /Welcome to the Internet Relay Network/.test(line));
    }, 30_000, `weechat to sign on:\n${output}`);
  } catch (error) {
    await close();
    throw error;
  }

  const command = (line: string) => {
    if (/[\r\n]/.test(line)) throw new Error('one command per line');
    writeFileSync(fifo, `irc.server.${SERVER} *${line}\n`);
  };

  const waitForLog = async (pattern: RegExp, what: string, from = 0, ms = 60_000): Promise<string> => {
    let found: string | undefined;
    await until(() => {
      found = read(coreLog).slice(from).find((line) => pattern.test(line));
      return found !== undefined;
    }, ms, `weechat: ${what}\n${read(coreLog).slice(from).join('\n')}`);
    return found!;
  };

  return {
    nick: options.nick,
    downloadDir,
    command,
    sendFile: (nick, path) => command(`/dcc send ${nick} ${path}`),
    log: () => read(coreLog),
    waitForLog,
    async set(option, value) {
      if (!/^[a-z_.]+$/.test(option) || /[\s;]/.test(value)) throw new Error('a plain option and value');
      const from = read(coreLog).length;
      command(`/set ${option} ${value}`);
      const escaped = option.replace(/\./g, '\\.');
      await waitForLog(new RegExp(`Option changed: ${escaped} = ${value}\\b`), `${option} to change`, from);
    },
    close,
  };
}
