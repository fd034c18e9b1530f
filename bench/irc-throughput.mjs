// Messages per second from an IRC channel: Parley's core conversation
// events (plugin-irc on irc-framework, through the core with its history)
// against raw irc-framework counting its own `privmsg` events, in the same
// run against the same local server.
// Needs the packages built: `npx tsc -b packages/core packages/plugin-irc`.
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { median } from './lib.mjs';
import { createParley } from '../packages/core/dist/index.js';
import ircPlugin from '../packages/plugin-irc/dist/index.js';

const require = createRequire(new URL('../packages/plugin-irc/package.json', import.meta.url));
const irc = require('irc-framework');

const TOTAL = Number(process.env.IRC_BENCH_MESSAGES ?? 200_000);
const CHANNEL = '#bench';

/** A server that registers one client, and once it has joined the channel blasts TOTAL PRIVMSG lines into it. */
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
        } else if (command === "PRIVMSG" && args[0] === "bench" && / :?go$/.test(line)) blast(socket);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function blast(socket) {
  let i = 0;
  const batch = 2_000;
  const write = () => {
    while (i < TOTAL) {
      let chunk = '';
      for (let j = 0; j < batch && i < TOTAL; j++, i++) chunk += `:sender${i % 50}!s@127.0.0.1 PRIVMSG ${CHANNEL} :benchmark message number ${i} with some ordinary text in it\r\n`;
      if (!socket.write(chunk)) {
        socket.once('drain', write);
        return;
      }
    }
  };
  write();
}

function countUntil(total, subscribe) {
  return new Promise((resolve) => {
    let count = 0;
    let start = 0;
    subscribe(() => {
      if (count === 0) start = performance.now();
      count++;
      if (count === total) resolve(performance.now() - start);
    });
  });
}

async function rawIrcFramework(port) {
  const client = new irc.Client();
  const registered = new Promise((resolve) => client.once('registered', resolve));
  // irc-framework's own keep-alive defaults (ping every 30 s, timeout after 120 s of silence); the
  // plugin keeps the same ping and timeout, the timeout watched by its transport instead.
  client.connect({ host: '127.0.0.1', port, nick: 'raw', auto_reconnect: false, ping_interval: 30, ping_timeout: 120 });
  await registered;
  const joined = new Promise((resolve) => client.once('userlist', resolve));
  client.join(CHANNEL);
  await joined;
  const done = countUntil(TOTAL, (fn) => client.on('privmsg', (event) => event.target === CHANNEL && fn()));
  client.say('bench', 'go');
  const ms = await done;
  client.quit();
  return (TOTAL / ms) * 1000;
}

const IRC_MODULE = new URL('../packages/plugin-irc/dist/index.js', import.meta.url).href;
const workerMemory = [];

async function parleyCore(port, history, isolation = 'none') {
  const home = mkdtempSync(join(tmpdir(), 'parley-irc-bench-'));
  // In a worker the plugin is loaded from its module; in process, the object is handed over.
  const plugin = isolation === 'worker' ? { pluginModules: [IRC_MODULE], isolation } : { plugins: [ircPlugin], isolation };
  const parley = await createParley({ home, ...plugin, discover: false, ...(history ? {} : { history: false }), passphrase: 'bench', secretStore: 'file', log: () => {} });
  try {
    const account = await parley.accounts.add({ protocol: 'irc', username: 'parley@127.0.0.1', settings: { server: '127.0.0.1', port, tls: false } });
    await parley.accounts.connect(account.id);
    await parley.chats.join(account.id, CHANNEL);
    const done = countUntil(TOTAL, (fn) => parley.events.on('messageReceived', (_message, conversation) => conversation.name === CHANNEL && fn()));
    await parley.conversations.sendIm(account.id, 'bench', 'go');
    const ms = await done;
    if (isolation === 'worker') workerMemory.push(...(await parley.plugins.workerMemory()).map((w) => w.heapUsed));
    return (TOTAL / ms) * 1000;
  } finally {
    await parley.shutdown();
    rmSync(home, { recursive: true, force: true });
  }
}

const ROUNDS = Number(process.env.IRC_BENCH_ROUNDS ?? 3);
const server = await blastServer();
const port = server.address().port;
// Rounds alternate the three runs, and each figure is the median of its rounds: on a busy machine
// one run can lose a third of its speed to a neighbour, and the first run of a process warms the JIT.
const runs = { baseline: [], withoutHistory: [], parley: [], worker: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.baseline.push(await rawIrcFramework(port));
  runs.withoutHistory.push(await parleyCore(port, false));
  runs.parley.push(await parleyCore(port, true));
  runs.worker.push(await parleyCore(port, true, 'worker'));
}
server.close();
const baseline = median(runs.baseline);
const withoutHistory = median(runs.withoutHistory);
const parley = median(runs.parley);
const list = (values) => values.map((v) => Math.round(v)).join(', ');
console.log(`irc-framework privmsg events: ${Math.round(baseline)} msg/s (median of ${list(runs.baseline)})`);
console.log(`Parley messageReceived events, history off: ${Math.round(withoutHistory)} msg/s (ratio ${(withoutHistory / baseline).toFixed(2)}; median of ${list(runs.withoutHistory)})`);
console.log(`Parley messageReceived events, history on (the default): ${Math.round(parley)} msg/s (median of ${list(runs.parley)})`);
const worker = median(runs.worker);
console.log(`Parley messageReceived events, plugin in a worker thread, history on: ${Math.round(worker)} msg/s (median of ${list(runs.worker)}); the worker's heap after the run: ${(median(workerMemory) / 2 ** 20).toFixed(1)} MiB`);
console.log(`RESULT irc-throughput parley=${Math.round(parley)} baseline=${Math.round(baseline)} unit=msg/s ratio=${(parley / baseline).toFixed(2)}`);
// The plugin in its worker thread against the same plugin in process, same run.
console.log(`RESULT irc-throughput-worker parley=${Math.round(worker)} baseline=${Math.round(parley)} unit=msg/s ratio=${(worker / parley).toFixed(2)}`);
process.exit(0);
