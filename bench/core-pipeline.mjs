// Messages per second through the whole core path — plugin → five hook
// handlers → conversation → UI event → history on disk, full-text indexed —
// against the limit of the same design without the core: eventemitter3 emit
// and better-sqlite3 writing the same schema and FTS5 index, one transaction
// per event-loop turn, on one thread. Both clocks stop when every message is
// committed; both stores are then checked to hold and find every message.
// Each side first writes the same number of messages untimed: each round's
// Parley is fresh, and its history thread a new isolate running its code for
// the first time, while the baseline's code (on this thread) is warm from the
// rounds before; a running client's history thread is warm. Both stores then
// hold as many messages before the timed part.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createParley, defineFeaturePlugin, defineProtocolPlugin } from '@parley/core';
import { cpuBetween, describe, main, median, result, rounds, size, storedHistory, threadCpu, timeIt, verify } from './lib.mjs';

const require = createRequire(new URL('../packages/core/package.json', import.meta.url));
const Database = require('better-sqlite3');
const { EventEmitter } = require('eventemitter3');

const COUNT = Number(process.env.BENCH_MESSAGES ?? size(50_000, 500));
const texts = Array.from({ length: COUNT }, (_, i) => `message ${i} about the quarterly numbers and lunch`);
/** Written untimed before the timed part, on both sides (none in a quick run). */
const WARM = size(COUNT, 0);

async function parleyRun() {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const known = threadCpu(); // the history thread starts after this
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
  let goal = 0;
  let done;
  parley.events.on('messageReceived', () => {
    if (++received === goal) done();
  });
  /** `count` messages through the core, until every one is stored on disk. */
  const receive = async (count) => {
    goal = received + count;
    const finished = new Promise((resolve) => (done = resolve));
    for (let i = 0; i < count; i++) ctx.receiveMessage({ conversation: { kind: 'im', peer: `peer${i % 20}` }, sender: `peer${i % 20}`, text: texts[i] });
    await finished;
    await parley.flushHistory();
  };
  if (WARM > 0) await receive(WARM);
  const before = threadCpu();
  const ms = await timeIt(() => receive(COUNT));
  const cpu = cpuBetween(known, before, threadCpu());
  await parley.shutdown();
  const stored = await storedHistory(join(home, 'history.db'), 'quarterly');
  rmSync(home, { recursive: true, force: true });
  verify(received === WARM + COUNT, `parley delivered ${received} of ${WARM + COUNT} messages`);
  verify(stored.rows === WARM + COUNT && stored.indexed === WARM + COUNT, `parley's history holds ${stored.rows} and finds ${stored.indexed} of ${WARM + COUNT} messages`);
  return { rate: (COUNT / ms) * 1000, cpu };
}

// Parley's history schema (packages/core/src/history/sqlite-history.ts): the table, its indexes, and the FTS5 index.
const SCHEMA = `
CREATE TABLE messages (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, protocol_id TEXT, account_id TEXT NOT NULL, peer TEXT NOT NULL COLLATE NOCASE,
  kind TEXT NOT NULL, direction TEXT NOT NULL, sender TEXT NOT NULL, sender_alias TEXT, ts INTEGER NOT NULL, text TEXT NOT NULL, html TEXT, flags INTEGER NOT NULL DEFAULT 0);
CREATE INDEX messages_ts ON messages (ts);
CREATE INDEX messages_peer ON messages (peer, ts);
CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', detail=none, columnsize=0);
`;

async function baselineRun() {
  const home = mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const path = join(home, 'baseline.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -16384'); // as the core's history (packages/core/src/history/sqlite-history.ts)
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO messages (id, protocol_id, account_id, peer, kind, direction, sender, sender_alias, ts, text, html, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  // The batch's rows go into the index by one statement reading them back, as Parley's history does:
  // cheaper than binding every text a second time.
  const index = db.prepare('INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages WHERE rowid > ?');
  let lastIndexed = 0;
  // Rows as long as the core's: its message ids are a 16-character prefix and a counter, its
  // account ids the protocol and 8 hex digits (shorter ones made every row a sixth smaller).
  const idPrefix = randomBytes(12).toString('base64url');
  const accountId = `bench-${randomBytes(4).toString('hex')}`;
  const write = db.transaction((batch) => {
    let last = lastIndexed;
    for (const m of batch) last = insert.run(m.id, null, accountId, m.peer, 'im', 'incoming', m.sender, null, m.ts, m.text, null, 0).lastInsertRowid;
    index.run(lastIndexed);
    lastIndexed = last;
  });
  // One transaction per event-loop turn, as Parley's history does.
  let pending = [];
  let scheduled;
  let committed = 0;
  let goal = 0;
  let done;
  let next = 0;
  const commit = () => {
    scheduled = undefined;
    const batch = pending;
    pending = [];
    write(batch);
    committed += batch.length;
    if (committed === goal) done();
  };
  const emitter = new EventEmitter();
  emitter.on('message', (m) => {
    pending.push(m);
    scheduled ??= setImmediate(commit);
  });
  /** `count` messages emitted, until every one is committed. */
  const receive = async (count) => {
    goal = committed + count;
    const finished = new Promise((resolve) => (done = resolve));
    for (let i = 0; i < count; i++, next++) emitter.emit('message', { id: idPrefix + next.toString(36), peer: `peer${i % 20}`, sender: `peer${i % 20}`, ts: Date.now(), text: texts[i] });
    await finished;
  };
  if (WARM > 0) await receive(WARM);
  const known = threadCpu();
  const ms = await timeIt(() => receive(COUNT));
  const cpu = cpuBetween(known, known, threadCpu());
  db.close();
  const stored = await storedHistory(path, 'quarterly');
  rmSync(home, { recursive: true, force: true });
  verify(stored.rows === WARM + COUNT && stored.indexed === WARM + COUNT, `the baseline holds ${stored.rows} and finds ${stored.indexed} of ${WARM + COUNT} messages`);
  return { rate: (COUNT / ms) * 1000, cpu };
}

/** Median CPU time (ms) of a side's rounds, each part apart, or undefined where it cannot be read. */
function medianCpu(runs) {
  if (runs.some((r) => r.cpu === undefined)) return undefined;
  const part = (key) => Math.round(median(runs.map((r) => r.cpu[key])));
  return { main: part('main'), started: part('started'), other: part('other'), total: part('total') };
}

await main(async () => {
  const runs = await rounds({ baseline: baselineRun, parley: parleyRun });
  const rates = (side) => runs[side].map((r) => r.rate);
  console.log(`core path (hooks, conversation, event, history indexed on its thread): ${describe(rates('parley'), 'msg/s')}`);
  console.log(`baseline (emit, same schema and FTS5 index, one transaction per turn, one thread): ${describe(rates('baseline'), 'msg/s')}; ${COUNT} messages per round`);
  // The core's rate needs two free cores (its history thread writes while the main thread works); its CPU time says what it costs.
  const cpu = { parley: medianCpu(runs.parley), baseline: medianCpu(runs.baseline) };
  if (cpu.parley !== undefined && cpu.baseline !== undefined) {
    console.log(
      `CPU time per round (median): core path ${cpu.parley.total} ms (main thread ${cpu.parley.main}, threads it started (its history thread) ${cpu.parley.started}, other threads ${cpu.parley.other}); ` +
        `baseline ${cpu.baseline.total} ms (main thread ${cpu.baseline.main}, other threads ${cpu.baseline.other})`,
    );
  }
  result('core-pipeline', Math.round(median(rates('parley'))), Math.round(median(rates('baseline'))), 'msg/s', { higherIsBetter: true, aim: { ratioAtLeast: 0.8 } });
});
