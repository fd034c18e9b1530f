// A large history: 1,000,000 messages over 50 peers and 100 days, written
// through the core's history store (the one Parley runs on its own thread),
// and the same messages written in the same run as Pidgin-style daily text
// logs (one file per peer and day, one line per message). Then, rotating
// between the two, the searches people make:
//   - the newest 50 messages with a peer (the store; `tail` on the peer's newest logs),
//   - a word, newest 50 matches (the store; `grep -r -i -w` over the logs),
//   - a common word since a date (the store; grep over the logs of those days).
// RESULT lines give p95 times (and p50 printed), and the ingest rate against
// writing the text logs. Each answer is checked against grep's. The searches
// start once the store has merged its search index after the import, as a
// running client does in its first quiet moment.
import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { main, percentile, result, roundCounts, rounds, size, storedHistory, timeIt, verify } from './lib.mjs';
import { ThreadedHistory } from '../packages/core/dist/history/threaded-history.js';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? size(1_000_000, 5_000));
const PEERS = 50;
const DAYS = size(100, 3);
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const QUERIES = size(20, 3); // store queries per shape and round
const GREPS = size(2, 1); // grep runs per word shape and round

// A deterministic generator, so every run searches the same history.
let seed = 0x2545f491;
function random() {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}
// Pronounceable words of two to four syllables (never a word of the log format), used with a skew:
// the first few are in several percent of messages, the last in about a thousandth.
const VOCABULARY = (() => {
  const words = new Set();
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  while (words.size < 3000) {
    let w = '';
    for (let s = 2 + Math.floor(random() * 3); s > 0; s--) w += c[Math.floor(random() * c.length)] + v[Math.floor(random() * v.length)];
    words.add(w);
  }
  return [...words];
})();
const COMMON = VOCABULARY.slice(5, 10);
const RARE = VOCABULARY.slice(2990, 3000);
const text = () => Array.from({ length: 6 + Math.floor(random() * 9) }, () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 3)]).join(' ');
const peerName = (p) => `peer${String(p).padStart(2, '0')}@example.net`;

function makeEntry(i) {
  const peer = peerName(Math.floor(random() * PEERS));
  const outgoing = random() < 0.5;
  return {
    id: `m${i}`,
    conversationId: '',
    accountId: 'xmpp-bench',
    peer,
    conversationKind: 'im',
    direction: outgoing ? 'outgoing' : 'incoming',
    sender: outgoing ? 'me@example.org' : peer,
    timestamp: START + Math.floor((i * DAYS * DAY) / TOTAL),
    text: text(),
    flags: {},
  };
}

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-history-'));
const logs = join(dir, 'logs', 'jabber', 'me@example.org');
const newestIdOf = new Map(); // peer → id of its newest message
const day = (ts) => new Date(ts).toISOString().slice(0, 10);
const logFile = (peer, ts) => join(logs, peer, `${day(ts)}.000000+0000UTC.txt`);

/** Pidgin's plain-text logger: a header per file, then `(HH:MM:SS) sender: text` per message. */
const openLogs = new Map();
function writeLogs(entries) {
  for (const e of entries) {
    const path = logFile(e.peer, e.timestamp);
    let fd = openLogs.get(path);
    if (fd === undefined) {
      mkdirSync(join(logs, e.peer), { recursive: true });
      fd = openSync(path, 'a');
      openLogs.set(path, fd);
      writeSync(fd, `Conversation with ${e.peer} at ${day(e.timestamp)} 00:00:00 on me@example.org/bench (jabber)\n`);
    }
    writeSync(fd, `(${new Date(e.timestamp).toISOString().slice(11, 19)}) ${e.sender}: ${e.text}\n`);
  }
  // A day's files are done once the next day has begun.
  const today = day(entries.at(-1).timestamp);
  for (const [path, fd] of openLogs) if (!path.includes(today)) (closeSync(fd), openLogs.delete(path));
}

/** Appends as messages arrive: a few hundred per turn of the event loop, then waits until all are on disk. */
async function writeStore(history, entries) {
  for (let i = 0; i < entries.length; i += 500) {
    for (const e of entries.slice(i, i + 500)) history.append(e);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await history.flush();
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    execFile(command, args, { maxBuffer: 1 << 30 }, (error, stdout) => {
      // grep exits 1 when nothing matches.
      if (error && !(command === 'grep' && error.code === 1)) reject(error);
      else resolve({ ms: performance.now() - start, lines: stdout === '' ? [] : stdout.trimEnd().split('\n') });
    });
  });
}

const p = (values, q) => percentile(values, q).toFixed(2);

/**
 * The quiet moment after the import: 2.5 s (the store starts merging its index after 2 s of quiet),
 * then as long as the index keeps changing. Looks through a read-only connection.
 */
async function settledIndex(dbPath) {
  const { createRequire } = await import('node:module');
  const Database = createRequire(new URL('../packages/core/package.json', import.meta.url))('better-sqlite3');
  const { indexSegments } = await import('../packages/core/dist/history/index-merger.js');
  const db = new Database(dbPath, { readonly: true });
  const structure = db.prepare('SELECT block FROM messages_fts_data WHERE id = 10').pluck();
  try {
    const start = performance.now();
    const before = indexSegments(db);
    let last = structure.get().toString('hex');
    let changedAt = start;
    while (performance.now() - start < 2500 || performance.now() - changedAt < 500) {
      verify(performance.now() - start < 120_000, 'the search index was still changing two minutes after the import');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = structure.get().toString('hex');
      if (now !== last) (last = now), (changedAt = performance.now());
    }
    return { before, after: indexSegments(db), ms: changedAt - start };
  } finally {
    db.close();
  }
}

await main(async () => {
  const historyPath = join(dir, 'history.db');
  const history = await ThreadedHistory.open(historyPath);
  verify(history !== undefined, 'the history worker is not built (npm run build)');
  try {
    // ---- ingest: the messages in chunks, one chunk per round, each written to both ----
    const { warm, measured } = roundCounts({ warmup: 1, rounds: 9 });
    const chunk = Math.ceil(TOTAL / (warm + measured));
    let next = 0;
    let current;
    const take = () => {
      if (current === undefined || current.done.size === 2) {
        const entries = [];
        for (; entries.length < chunk && next < TOTAL; next++) entries.push(makeEntry(next));
        for (const e of entries) newestIdOf.set(e.peer, e.id);
        current = { entries, done: new Set() };
      }
      return current;
    };
    const ingest = await rounds(
      {
        store: async () => {
          const c = take();
          const ms = await timeIt(() => writeStore(history, c.entries));
          c.done.add('store');
          return (c.entries.length / ms) * 1000;
        },
        logs: async () => {
          const c = take();
          const ms = await timeIt(() => writeLogs(c.entries));
          c.done.add('logs');
          return (c.entries.length / ms) * 1000;
        },
      },
      { warmup: 1, rounds: 9 },
    );
    for (const fd of openLogs.values()) closeSync(fd);
    verify(next === TOTAL, `wrote ${next} of ${TOTAL} messages`);

    // ---- the quiet moment after the import ----
    // A running client merges the search index into one piece once the history has been quiet
    // for a moment (packages/core/src/history/index-merger.ts); the searches below run on the
    // history as that leaves it, the logs on the files as the import left them.
    const index = await settledIndex(historyPath);
    console.log(`search index: ${index.before} segments after the import, ${index.after} when it last changed, ${(index.ms / 1000).toFixed(1)} s after (2 s of that the history waiting to be quiet)`);

    // ---- searches ----
    const lastDay = START + (DAYS - 1) * DAY;
    let q = 0;
    const shapes = {
      newest50: {
        store: async () => {
          const times = [];
          for (let i = 0; i < QUERIES; i++) {
            const peer = peerName(q++ % PEERS);
            const start = performance.now();
            const found = await history.search({ peer, limit: 50 });
            times.push(performance.now() - start);
            verify(found.length === 50 && found.every((e) => e.peer === peer) && found.at(-1).id === newestIdOf.get(peer), `the newest 50 with ${peer} are not its last 50 messages`);
          }
          return times;
        },
        baseline: async () => {
          const times = [];
          for (let i = 0; i < QUERIES; i++) {
            const peer = peerName(q++ % PEERS);
            const files = readdirSync(join(logs, peer)).sort().slice(-2).map((f) => join(logs, peer, f));
            const { ms, lines } = await run('tail', ['-q', '-n', '50', ...files]);
            times.push(ms);
            verify(lines.filter((l) => l.startsWith('(')).length >= 50, `tail found fewer than 50 messages with ${peer}`);
          }
          return times;
        },
      },
      word: {
        words: (n) => (n % 2 === 0 ? RARE[n % RARE.length] : COMMON[n % COMMON.length]),
        files: () => [join(dir, 'logs')],
      },
      wordSince: {
        words: (n) => COMMON[n % COMMON.length],
        // The last fifth of the days, from midnight: the store's `since` and the files' dates agree.
        since: START + Math.floor(DAYS * 0.8) * DAY,
        files: () => readdirSync(logs).flatMap((peer) => readdirSync(join(logs, peer)).filter((f) => f >= day(START + Math.floor(DAYS * 0.8) * DAY)).map((f) => join(logs, peer, f))),
      },
    };
    // How many messages grep finds for each word (and range): what the store's answer is checked against.
    const grepCount = new Map();
    const grep = async (shape, word) => {
      const { ms, lines } = await run('grep', ['-r', '-i', '-w', '-F', '-h', word, ...shape.files()]);
      grepCount.set(`${shape === shapes.word ? 'all' : 'since'}:${word}`, lines.length);
      return ms;
    };
    for (const name of ['word', 'wordSince']) {
      const shape = shapes[name];
      let n = 0;
      let g = 0;
      shape.store = async () => {
        const times = [];
        for (let i = 0; i < QUERIES; i++) {
          const word = shape.words(n++);
          const start = performance.now();
          const found = await history.search({ words: word, limit: 50, ...(shape.since === undefined ? {} : { since: shape.since }) });
          times.push(performance.now() - start);
          const key = `${name === 'word' ? 'all' : 'since'}:${word}`;
          if (!grepCount.has(key)) await grep(shape, word);
          verify(found.length === Math.min(50, grepCount.get(key)), `a search for "${word}" found ${found.length} messages, grep ${grepCount.get(key)}`);
          verify(found.every((e) => e.text.split(' ').includes(word) && (shape.since === undefined || e.timestamp >= shape.since)), `a search for "${word}" answered a message without it`);
        }
        return times;
      };
      shape.baseline = async () => {
        const times = [];
        for (let i = 0; i < GREPS; i++) times.push(await grep(shape, shape.words(g++)));
        return times;
      };
    }
    const measuredShapes = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const got = await rounds({ store: shape.store, baseline: shape.baseline });
      measuredShapes[name] = { store: got.store.flat(), baseline: got.baseline.flat() };
    }
    await history.close();
    const stored = await storedHistory(historyPath, COMMON[0]);
    verify(stored.rows === TOTAL, `the store holds ${stored.rows} of ${TOTAL} messages`);

    const rate = (values) => Math.round(percentile(values, 50));
    console.log(`${TOTAL} messages, ${PEERS} peers, ${DAYS} days; load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`ingest through the core's store: median ${rate(ingest.store)} msg/s over ${ingest.store.length} chunks of ${chunk}; Pidgin-style text logs: median ${rate(ingest.logs)} msg/s`);
    const label = { newest50: ['newest 50 with a peer', 'tail on its newest logs'], word: ['a word (rare or common), newest 50', 'grep -r -i -w'], wordSince: ['a common word since a date, newest 50', 'grep over those days'] };
    for (const [name, m] of Object.entries(measuredShapes)) {
      console.log(`${label[name][0]}: store p50 ${p(m.store, 50)} ms, p95 ${p(m.store, 95)} ms (${m.store.length} queries); ${label[name][1]}: p50 ${p(m.baseline, 50)} ms, p95 ${p(m.baseline, 95)} ms (${m.baseline.length} runs)`);
    }
    const p95 = (values) => Number(percentile(values, 95).toFixed(3));
    result('history-ingest', rate(ingest.store), rate(ingest.logs), 'msg/s', { higherIsBetter: true, aim: { parleyAtLeast: 40_000 } });
    result('history-newest50', p95(measuredShapes.newest50.store), p95(measuredShapes.newest50.baseline), 'ms-p95', { higherIsBetter: false, aim: { parleyAtMost: 1 } });
    result('history-word', p95(measuredShapes.word.store), p95(measuredShapes.word.baseline), 'ms-p95', { higherIsBetter: false, aim: { ratioAtLeast: 100 } });
    result('history-word-since', p95(measuredShapes.wordSince.store), p95(measuredShapes.wordSince.baseline), 'ms-p95', { higherIsBetter: false, aim: { ratioAtLeast: 100 } });
  } finally {
    await history?.close().catch(() => {});
    if (process.env.BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
});
