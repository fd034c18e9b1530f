/**
 * Irssi (Debian's `irssi`) as an independent IRC client for the DCC tests
 * WeeChat cannot serve: passive (reverse) DCC, which WeeChat 3.8 does not
 * speak. Irssi needs a terminal, so it runs under `script` (a pseudo
 * terminal nobody reads); a small Perl script loaded at start runs the
 * commands appended to a file and writes its DCC signals ("request",
 * "connected", "closed" with the bytes moved) to an event log the tests read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../helpers/wait.js';

export interface IrssiPeer {
  readonly nick: string;
  /** Where it saves received files (dcc_download_path). */
  readonly downloadDir: string;
  /** Runs an Irssi command on the server (`/dcc send -passive nick path`, `/dcc get nick file`). */
  command(line: string): void;
  /** Lines of its event log so far ("request GET nick file=…", "closed SEND nick transferred=… size=… file=…"). */
  events(): string[];
  /** Waits until an event line matches, after `from` lines. */
  waitForEvent(pattern: RegExp, what: string, from?: number, ms?: number): Promise<string>;
  close(): Promise<void>;
}

const DRIVER = String.raw`use strict;
use Irssi;
my $dir = $ENV{PARLEY_IRSSI_DIR};
open(my $log, '>>', "$dir/events.log") or die;
$log->autoflush(1);
sub note { print $log join(' ', @_), "\n"; }
my $pos = 0;
Irssi::timeout_add(50, sub {
  open(my $in, '<', "$dir/commands") or return;
  seek($in, $pos, 0);
  while (my $line = <$in>) {
    last unless $line =~ /\n$/;
    $pos += length($line);
    chomp $line;
    my $server = (Irssi::servers())[0];
    if ($server) { $server->command($line); } else { Irssi::command($line); }
    note('ran', $line);
  }
  close($in);
}, undef);
Irssi::signal_add('event 001', sub { note('welcome'); });
Irssi::signal_add('dcc request', sub { my ($dcc) = @_; note('request', $dcc->{type}, $dcc->{nick}, "file=$dcc->{arg}"); });
Irssi::signal_add('dcc connected', sub { my ($dcc) = @_; note('connected', $dcc->{type}, $dcc->{nick}, "file=$dcc->{arg}"); });
Irssi::signal_add('dcc closed', sub {
  my ($dcc) = @_;
  note('closed', $dcc->{type}, $dcc->{nick}, "transferred=$dcc->{transfd}", "size=$dcc->{size}", "skipped=$dcc->{skipped}", "file=$dcc->{arg}");
});
note('loaded');
`;

export async function startIrssi(options: { port: number; nick: string }): Promise<IrssiPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-irssi-'));
  const home = join(dir, 'home');
  const downloadDir = join(dir, 'downloads');
  mkdirSync(join(home, 'scripts', 'autorun'), { recursive: true });
  mkdirSync(downloadDir);
  writeFileSync(join(home, 'scripts', 'autorun', 'parley-driver.pl'), DRIVER);
  writeFileSync(join(dir, 'commands'), '');
  writeFileSync(
    join(home, 'config'),
    [
      'settings = {',
      `  core = { real_name = "${options.nick}"; user_name = "${options.nick}"; nick = "${options.nick}"; };`,
      `  "irc/dcc" = { dcc_autoget = "yes"; dcc_autoresume = "yes"; dcc_download_path = "${downloadDir}"; dcc_own_ip = "127.0.0.1"; };`,
      '  "fe-common/core" = { autolog = "no"; };',
      '};',
      '',
    ].join('\n'),
  );
  if (!/^[\w./-]+$/.test(dir) || !/^\w+$/.test(options.nick)) throw new Error('irssi: unexpected characters in the directory or nick');
  // `script` gives Irssi the terminal it insists on; a process group of its own so close() ends both.
  const proc: ChildProcess = spawn('script', ['-qfc', `irssi --home=${home} -n ${options.nick} -c 127.0.0.1 -p ${options.port}`, '/dev/null'], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, PARLEY_IRSSI_DIR: dir, TERM: 'xterm', HOME: dir },
    detached: true,
  });
  let exited = false;
  proc.once('exit', () => (exited = true));
  const eventLog = join(dir, 'events.log');
  const read = () => (existsSync(eventLog) ? readFileSync(eventLog, 'utf8').split('\n').filter((l) => l !== '') : []);

  const close = async () => {
    if (!exited && proc.pid !== undefined) {
      const done = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      process.kill(-proc.pid, 'SIGTERM');
      const timer = setTimeout(() => proc.pid !== undefined && process.kill(-proc.pid, 'SIGKILL'), 5_000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await until(() => {
      if (exited) throw new Error('irssi exited during start');
      return read().includes('welcome');
    }, 30_000, `irssi to sign on: ${read().join(' | ')}`);
  } catch (error) {
    await close();
    throw error;
  }

  const waitForEvent = async (pattern: RegExp, what: string, from = 0, ms = 60_000): Promise<string> => {
    let found: string | undefined;
    await until(() => {
      found = read().slice(from).find((line) => pattern.test(line));
      return found !== undefined;
    }, ms, `irssi: ${what}\n${read().slice(from).join('\n')}`);
    return found!;
  };

  return {
    nick: options.nick,
    downloadDir,
    command: (line) => {
      if (/[\r\n]/.test(line)) throw new Error('one command per line');
      appendFileSync(join(dir, 'commands'), `${line}\n`);
    },
    events: read,
    waitForEvent,
    close,
  };
}
