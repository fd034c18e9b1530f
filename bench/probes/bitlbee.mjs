// libpurple, headless: Debian's bitlbee-libpurple (the IRC gateway in front
// of libpurple, as the OCS interop tests use it), for bench/xmpp-roster.mjs.
// BitlBee forks one process per IRC client (ForkDaemon), so each sign-in runs
// in a fresh process whose resident set can be read before and after.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../test/servers/prosody.mjs';

const canConnect = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

export async function startBitlBee(dir) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'bitlbee.conf');
  writeFileSync(conf, `[settings]\nRunMode = ForkDaemon\nDaemonInterface = 127.0.0.1\nDaemonPort = ${port}\nAuthMode = Open\nConfigDir = ${dir}\n`);
  const child = spawn('bitlbee', ['-F', '-n', '-c', conf, '-d', dir], { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const spawned = new Promise((resolve, reject) => (child.once('spawn', resolve), child.once('error', reject)));
  await spawned;
  for (const deadline = Date.now() + 10_000; !(await canConnect(port)); ) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`BitlBee did not start: ${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    /** The newest process BitlBee forked for a client. */
    newestChild: () => {
      const pids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
      // Field 22 of /proc/PID/stat: when the process started.
      const started = (pid) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
      return pids.reduce((a, b) => (started(b) >= started(a) ? b : a));
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

const rssOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

/** A line-reading IRC client for BitlBee's control channel, resolving waits on the line they wait for. */
async function ircClient(port, nick) {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffer = '';
  const lines = [];
  let waiter;
  socket.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\r\n');
    buffer = parts.pop();
    for (const line of parts) {
      if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
      lines.push(line);
      if (waiter?.pattern.test(line)) {
        const w = waiter;
        waiter = undefined;
        w.resolve(line);
      }
    }
  });
  socket.on('error', () => {});
  const client = {
    say: (text) => socket.write(`PRIVMSG &bitlbee :${text}\r\n`),
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`BitlBee: no ${pattern} in time; last lines:\n${lines.slice(-10).join('\n')}`)), timeoutMs);
        waiter = { pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) };
      }),
    close: () => {
      socket.end('QUIT :done\r\n');
      socket.destroySoon?.();
    },
  };
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject)));
  socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
  await client.waitFor(/ 001 /, 10_000);
  return client;
}

/**
 * One libpurple sign-in to the XMPP server: the time from `account on` until BitlBee reports it
 * logged in (libpurple has the roster in and its initial presence out by then), the buddies
 * libpurple then lists, and the growth of that BitlBee process's resident set.
 */
export async function libpurpleSignIn(bee, { nick, server, port, username, password }) {
  const irc = await ircClient(bee.port, nick);
  try {
    irc.say(`account add jabber ${username} ${password}`);
    irc.say(`account jabber set connect_server ${server}`);
    irc.say(`account jabber set port ${port}`);
    // No certificate on the benchmark's server: plaintext on loopback, as for the other sides.
    irc.say('account jabber set connection_security opportunistic_tls');
    await irc.waitFor(/connection_security/);
    const pid = bee.newestChild();
    const before = rssOf(pid);
    const start = performance.now();
    irc.say('account jabber on');
    // BitlBee says "Logged in" when libpurple reports the connection up (printed as "Logging in: Logged in").
    await irc.waitFor(/jabber - (Logging in: )?Logged in$/);
    const ms = performance.now() - start;
    const after = rssOf(pid);
    irc.say('blist all');
    const summary = await irc.waitFor(/:(\d+) buddies \(/);
    return { ms, rss: after - before, buddies: Number(/:(\d+) buddies/.exec(summary)[1]) };
  } finally {
    irc.close();
  }
}
