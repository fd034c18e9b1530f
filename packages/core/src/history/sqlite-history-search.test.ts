// Search results by time, whatever order messages were stored in: a search
// stops scanning once no older match can rank, and must answer exactly as
// sorting every match by time would.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry, HistoryQuery } from './history-store.js';
import { SqliteHistory } from './sqlite-history.js';
import { ThreadedHistory } from './threaded-history.js';

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-history-')), 'history.db');
}

const WORDS = ['green', 'lunch', 'build', 'release', 'coffee'];

interface Stored {
  entry: HistoryEntry;
  order: number;
}

function makeEntry(i: number, fields: { peer: string; accountId: string; timestamp: number; words: string[] }): HistoryEntry {
  return {
    id: `m${i}`,
    conversationId: 'c',
    accountId: fields.accountId,
    peer: fields.peer,
    conversationKind: 'im',
    direction: 'incoming',
    sender: fields.peer,
    timestamp: fields.timestamp,
    text: `${fields.words.join(' ')} #${i}`,
    flags: {},
  };
}

/** What a search must answer: every match, newest `limit` by time (then by storage order), oldest first. */
function reference(stored: Stored[], query: HistoryQuery): string[] {
  const words = query.words?.toLowerCase().split(/\s+/).filter((w) => w !== '') ?? [];
  const matches = stored.filter(({ entry }) => {
    const tokens = new Set(entry.text.toLowerCase().split(/[^a-z0-9]+/));
    return (
      words.every((w) => tokens.has(w)) &&
      (query.peer === undefined || entry.peer.toLowerCase() === query.peer.toLowerCase()) &&
      (query.accountId === undefined || entry.accountId === query.accountId) &&
      (query.since === undefined || entry.timestamp >= query.since) &&
      (query.until === undefined || entry.timestamp < query.until)
    );
  });
  matches.sort((a, b) => b.entry.timestamp - a.entry.timestamp || b.order - a.order);
  return matches
    .slice(0, query.limit ?? 200)
    .reverse()
    .map(({ entry }) => entry.id);
}

const message = fc.record({
  peer: fc.constantFrom('bob', 'carol', 'Dave'),
  accountId: fc.constantFrom('acc', 'other'),
  // Mostly in time order; some arrive late (delayed delivery, an import).
  step: fc.integer({ min: 0, max: 200 }),
  late: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }) }),
  words: fc.subarray(WORDS, { minLength: 1, maxLength: 3 }),
});

const query = fc.record(
  {
    words: fc.oneof(fc.constantFrom(...WORDS), fc.constant('green lunch'), fc.constant('nowhere')),
    peer: fc.constantFrom('bob', 'CAROL'),
    accountId: fc.constant('acc'),
    since: fc.integer({ min: 0, max: 15_000 }),
    until: fc.integer({ min: 0, max: 20_000 }),
    limit: fc.integer({ min: 1, max: 12 }),
  },
  { requiredKeys: ['limit'] },
);

type MessageRecord = typeof message extends fc.Arbitrary<infer T> ? T : never;

async function store(path: string, messages: Array<MessageRecord>, batches: number): Promise<Stored[]> {
  const history = new SqliteHistory(path);
  const stored: Stored[] = [];
  let clock = 0;
  for (const [i, m] of messages.entries()) {
    clock += m.step;
    const entry = makeEntry(i, { peer: m.peer, accountId: m.accountId, timestamp: 1_000 + clock - m.late, words: m.words });
    history.append(entry);
    stored.push({ entry, order: i });
    // Several write batches, so the time order is carried from one to the next.
    if (i % Math.ceil(messages.length / batches) === 0) await history.flush();
  }
  await history.close();
  return stored;
}

/** Stores random messages in random batches, then checks random searches of them against `reference` through the store `open` gives. */
function searchesMatchReference(open: (path: string) => Promise<{ search: SqliteHistory['search']; close(): Promise<void> }>, numRuns: number): Promise<void> {
  return fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 5 }), fc.array(query, { minLength: 1, maxLength: 15 }), async (messages, batches, queries) => {
      const path = dbPath();
      const stored = await store(path, messages, batches);
      const history = await open(path);
      try {
        for (const q of queries) expect((await history.search(q)).map((e) => e.id)).toEqual(reference(stored, q));
      } finally {
        await history.close();
      }
    }),
    { numRuns },
  );
}

describe('history search order', () => {
  it('answers every search shape as sorting every match by time would', async () => {
    await searchesMatchReference(async (path) => new SqliteHistory(path), 40);
  }, 60_000);

  it('answers the same through the history thread, searches bounded enough being answered on the calling thread', async () => {
    await searchesMatchReference(async (path) => (await ThreadedHistory.open(path))!, 25);
  }, 60_000);

  it('finds late messages in a database whose time order an older version never recorded', async () => {
    const path = dbPath();
    const history = new SqliteHistory(path);
    // A message stored last but an hour older than the rest, e.g. delivered late from an offline store.
    for (let i = 0; i < 100; i++) history.append(makeEntry(i, { peer: 'bob', accountId: 'acc', timestamp: 10_000_000 + i * 1000, words: ['green'] }));
    history.append(makeEntry(100, { peer: 'bob', accountId: 'acc', timestamp: 10_000_000 + 50_500, words: ['green'] }));
    await history.close();
    // What an older version leaves: indexed rows, no record of their time order.
    const db = new Database(path);
    db.prepare(`DELETE FROM meta WHERE key IN ('ts_order_upto', 'ts_max', 'ts_lateness')`).run();
    db.close();
    const reopened = new SqliteHistory(path);
    // Stored first, the late message is the first the index yields: it must not end the scan.
    const found = (await reopened.search({ words: 'green', since: 10_000_000 + 60_000, limit: 15 })).map((e) => e.id);
    await reopened.close();
    expect(found).toEqual(Array.from({ length: 15 }, (_, k) => `m${85 + k}`));
  });
});
