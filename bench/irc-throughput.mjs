// Messages per second from an IRC channel: Parley's core conversation
// events (plugin-irc on irc-framework, through the core with its history)
// against raw irc-framework (its defaults) counting its own `privmsg` events,
// in the same run against the same local server, the variants in rotating
// order. With history on, Parley's clock stops when the last message is in the
// history on disk, and the history is checked to hold every message.
// Every side first receives an untimed warm-up blast on the same connection:
// each Parley side is a fresh Parley, whose history thread (and, in worker
// mode, whose plugin worker) is a new isolate running its code for the first
// time, while the code of this process is warm from the rounds before; a
// running client's threads are warm (a fresh worker's start is bench/startup's
// figure).
// Needs the packages built: `npm run build`.
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { describe, main, median, result, rounds, size, storedHistory, verify } from './lib.mjs';
import { createParley } from '../packages/core/dist/index.js';
import ircPlugin from '../packages/plugin-irc/dist/index.js';

const require = createRequire(new URL('../packages/plugin-irc/package.json', import.meta.url));
const irc = require('irc-framework');

const TOTAL = Number(process.env.IRC_BENCH_MESSAGES ?? size(200_000, 2_000));
/** The untimed blast each side receives first (none in a quick run). */
const WARM = size(50_000, 0);
const CHANNEL = '#bench';

/** A server that registers one client, and once it has joined the channel blasts PRIVMSG lines into it: WARM when told "warm", TOTAL when told "go". */
function blastServer() {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let nick = 'client';
    let buffered = '';
    let registered = false;
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\r\n');
      buffered = lines.pop();
      for (const line of lines) {
        const [command, ...args] = line.split(' ');
        if (command === 'NICK') nick = args[0];
        else if (command === 'USER' && !registered) {
          registered = true;
          socket.write(`:bench.test 001 ${nick} :Welcome ${nick}!u@127.0.0.1\r\n:bench.test 005 ${nick} CHANTYPES=# PREFIX=(ov)@+ :ok\r\n:bench.test 376 ${nick} :End\r\n`);
        } else if (command === 'CAP' && args[0] === 'LS') socket.write(':bench.test CAP * LS :\r\n');
        else if (command === 'PING') socket.write(`:bench.test PONG bench.test ${args.join(' ')}\r\n`);
        else if (command === 'JOIN' && args[0] === CHANNEL) {
          socket.write(`:${nick}!u@127.0.0.1 JOIN :${CHANNEL}\r\n:bench.test 353 ${nick} = ${CHANNEL} :${nick} @sender\r\n:bench.test 366 ${nick} ${CHANNEL} :End\r\n`);
          // Wait for the client to say it is ready, then blast.
        } else if (command === 'PRIVMSG' && args[0] === 'bench' && / :?go$/.test(line)) blast(socket, TOTAL);
        else if (command === 'PRIVMSG' && args[0] === 'bench' && / :?warm$/.test(line)) blast(socket, WARM);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function blast(socket, count) {
  let i = 0;
  const batch = 2_000;
  const write = () => {
    while (i < count) {
      let chunk = '';
      for (let j = 0; j < batch && i < count; j++, i++) chunk += `:sender${i % 50}!s@127.0.0.1 PRIVMSG ${CHANNEL} :benchmark message number ${i} with some ordinary text in it\r\n`;
      if (!socket.write(chunk)) {
        socket.once('drain', write);
        return;
      }
    }
  };
  write();
}

/** Resolves with the time from the first counted event to `finish()` having run after the `total`-th. */
function countUntil(total, subscribe, finish = async () => {}) {
  return new Promise((resolve, reject) => {
    let count = 0;
    let start = 0;
    subscribe(() => {
      if (count === 0) start = performance.now();
      count++;
      if (count === total) finish().then(() => resolve(performance.now() - start), reject);
    });
  });
}

async function rawIrcFramework(port) {
  const client = new irc.Client();
  const registered = new Promise((resolve) => client.once('registered', resolve));
  // irc-framework's defaults otherwise, its keep-alive included (ping every 30 s, timeout after 120 s
  // of silence, given here as the plugin uses the same); the plugin keeps the same ping and timeout,
  // the timeout watched by its transport instead.
  client.connect({ host: '127.0.0.1', port, nick: 'raw', auto_reconnect: false, ping_interval: 30, ping_timeout: 120 });
  await registered;
  const joined = new Promise((resolve) => client.once('userlist', resolve));
  client.join(CHANNEL);
  await joined;
  if (WARM > 0) {
    let listener;
    const warmed = countUntil(WARM, (fn) => client.on('privmsg', (listener = fn)));
    client.say('bench', 'warm');
    await warmed;
    client.off('privmsg', listener);
  }
  let received = 0;
  const done = countUntil(TOTAL, (fn) => client.on('privmsg', (event) => event.target === CHANNEL && (received++, fn())));
  client.say('bench', 'go');
  const ms = await done;
  client.quit();
  verify(received === TOTAL, `irc-framework delivered ${received} of ${TOTAL} messages`);
  return (TOTAL / ms) * 1000;
}

const IRC_MODULE = new URL('../packages/plugin-irc/dist/index.js', import.meta.url).href;
const workerMemory = [];

async function parleyCore(port, history, isolation = 'none') {
  const home = mkdtempSync(join(tmpdir(), 'parley-irc-bench-'));
  // In a worker the plugin is loaded from its module; in process, the object is handed over.
  const plugin = isolation === 'worker' ? { pluginModules: [IRC_MODULE], isolation } : { plugins: [ircPlugin], isolation };
  const parley = await createParley({ home, ...plugin, discover: false, ...(history ? {} : { history: false }), passphrase: 'bench', secretStore: 'file', log: () => {} });
  let received = 0;
  let ms;
  try {
    const account = await parley.accounts.add({ protocol: 'irc', username: 'parley@127.0.0.1', settings: { server: '127.0.0.1', port, tls: false } });
    await parley.accounts.connect(account.id);
    await parley.chats.join(account.id, CHANNEL);
    if (WARM > 0) {
      let listener;
      const warmed = countUntil(WARM, (fn) => parley.events.on('messageReceived', (listener = fn)), () => parley.flushHistory());
      await parley.conversations.sendIm(account.id, 'bench', 'warm');
      await warmed;
      parley.events.off('messageReceived', listener);
    }
    // With history on, the clock stops when the last message is in the history on disk, not at its event.
    const done = countUntil(TOTAL, (fn) => parley.events.on('messageReceived', (_message, conversation) => conversation.name === CHANNEL && (received++, fn())), () => parley.flushHistory());
    await parley.conversations.sendIm(account.id, 'bench', 'go');
    ms = await done;
    if (isolation === 'worker') workerMemory.push(...(await parley.plugins.workerMemory()).map((w) => w.heapUsed));
  } finally {
    await parley.shutdown();
  }
  const stored = history ? await storedHistory(join(home, 'history.db'), 'benchmark') : undefined;
  rmSync(home, { recursive: true, force: true });
  verify(received === TOTAL, `Parley delivered ${received} of ${TOTAL} messages`);
  // The history also holds the warm-up blast and the "warm" and "go" sent to start the blasts.
  const sent = WARM > 0 ? 2 : 1;
  if (stored !== undefined) verify(stored.indexed === WARM + TOTAL && stored.rows === WARM + TOTAL + sent, `Parley's history holds ${stored.rows} messages and finds ${stored.indexed}, expected ${WARM + TOTAL} received and ${sent} sent`);
  return (TOTAL / ms) * 1000;
}

await main(async () => {
  const server = await blastServer();
  const port = server.address().port;
  // Rotating rounds, each figure the median of its rounds: on a busy machine one run can lose a
  // third of its speed to a neighbour, and the first run of a process warms the JIT. 15 rounds, not
  // 7: with 7, two slow rounds of one side moved its median by up to 10% (a side spread by 36% in
  // one run), as much as the worker line's aim allows.
  const runs = await rounds({
    baseline: () => rawIrcFramework(port),
    withoutHistory: () => parleyCore(port, false),
    parley: () => parleyCore(port, true),
    worker: () => parleyCore(port, true, 'worker'),
  }, { rounds: 15 });
  server.close();
  const baseline = median(runs.baseline);
  const withoutHistory = median(runs.withoutHistory);
  const parley = median(runs.parley);
  const worker = median(runs.worker);
  console.log(`irc-framework privmsg events (its defaults): ${describe(runs.baseline, 'msg/s')}`);
  console.log(`Parley messageReceived events, history off: ${describe(runs.withoutHistory, 'msg/s')} (ratio ${(withoutHistory / baseline).toFixed(2)})`);
  console.log(`Parley, history on (the default), until the last message is in the history: ${describe(runs.parley, 'msg/s')}`);
  console.log(`Parley, plugin in a worker thread, history on: ${describe(runs.worker, 'msg/s')}; the worker's heap after the run: ${(median(workerMemory) / 2 ** 20).toFixed(1)} MiB`);
  result('irc-throughput', Math.round(parley), Math.round(baseline), 'msg/s', { higherIsBetter: true, aim: { ratioAtLeast: 0.7 } });
  // The plugin in its worker thread against the same plugin in process, same run.
  result('irc-throughput-worker', Math.round(worker), Math.round(parley), 'msg/s', { higherIsBetter: true, aim: { ratioAtLeast: 0.9 } });
});
