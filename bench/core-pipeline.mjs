// Messages per second through the whole core path — plugin → five hook
// handlers → conversation → UI event → history on disk — against plain
// eventemitter3 emit + better-sqlite3 insert of the same messages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createParley, defineFeaturePlugin, defineProtocolPlugin } from '@parley/core';
import { median, result, timeIt } from './lib.mjs';

const require = createRequire(new URL('../packages/core/package.json', import.meta.url));
const Database = require('better-sqlite3');
const { EventEmitter } = require('eventemitter3');

const COUNT = Number(process.env.BENCH_MESSAGES ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const texts = Array.from({ length: COUNT }, (_, i) => `message ${i} about the quarterly numbers and lunch`);

async function parleyRun() {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  let ctx;
  const plugin = defineProtocolPlugin({
    id: 'bench',
    name: 'Bench',
    options: {},
    capabilities: {},
    createConnection(context) {
      ctx = context;
      return { connect: async () => {}, disconnect: async () => {}, sendMessage: async () => {} };
    },
  });
  const handlers = defineFeaturePlugin({
    name: 'five-handlers',
    apply(api) {
      api.hooks.receivingMessage.tap((m) => (m.text.includes('SPAM') ? null : undefined));
      api.hooks.receivingMessage.tap((m) => ({ ...m, text: m.text.trim() }));
      api.hooks.receivingMessage.tap(() => undefined);
      api.hooks.writingToConversation.tap(() => undefined);
      api.hooks.writingToConversation.tap((m) => m);
    },
  });
  const parley = await createParley({ home, discover: false, plugins: [plugin], secretStore: 'file', passphrase: 'bench', log: () => {} });
  await parley.plugins.use(handlers);
  const account = await parley.accounts.add({ protocol: 'bench', username: 'me' });
  await parley.accounts.connect(account.id);
  let received = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  parley.events.on('messageReceived', () => {
    if (++received === COUNT) done();
  });
  const ms = await timeIt(async () => {
    for (let i = 0; i < COUNT; i++) ctx.receiveMessage({ conversation: { kind: 'im', peer: `peer${i % 20}` }, sender: `peer${i % 20}`, text: texts[i] });
    await finished;
    await parley.flushHistory(); // every message stored on disk
  });
  const found = await parley.searchHistory({ words: 'quarterly', limit: 10_000 });
  if (found.length !== Math.min(COUNT, 10_000)) throw new Error(`history holds ${found.length} messages, expected ${Math.min(COUNT, 10_000)}`);
  await parley.shutdown();
  rmSync(home, { recursive: true, force: true });
  return (COUNT / ms) * 1000;
}

async function baselineRun() {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const db = new Database(join(home, 'baseline.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE messages (id INTEGER PRIMARY KEY, peer TEXT, sender TEXT, ts INTEGER, text TEXT)');
  const insert = db.prepare('INSERT INTO messages (peer, sender, ts, text) VALUES (?, ?, ?, ?)');
  const emitter = new EventEmitter();
  emitter.on('message', (m) => insert.run(m.peer, m.sender, m.ts, m.text));
  const ms = await timeIt(async () => {
    for (let i = 0; i < COUNT; i++) emitter.emit('message', { peer: `peer${i % 20}`, sender: `peer${i % 20}`, ts: Date.now(), text: texts[i] });
  });
  db.close();
  rmSync(home, { recursive: true, force: true });
  return (COUNT / ms) * 1000;
}

const parleyRates = [];
const baselineRates = [];
for (let run = 0; run < RUNS; run++) {
  baselineRates.push(await baselineRun());
  parleyRates.push(await parleyRun());
}
const p = median(parleyRates);
const b = median(baselineRates);
console.log(`core path: ${Math.round(p)} msg/s (median of ${RUNS}), baseline emit+insert: ${Math.round(b)} msg/s, ${COUNT} messages per run`);
result('core-pipeline', Math.round(p), Math.round(b), 'msg/s', { higherIsBetter: true });
