import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryError } from '../errors/ParleyError.js';
import type { HistoryEntry } from './history-store.js';
import { indexSegments } from './index-merger.js';
import { SqliteHistory, type SqliteHistoryOptions } from './sqlite-history.js';

const WORDS = ['green', 'build', 'lunch', 'release', 'coffee', 'deploy', 'meeting', 'ticket', 'review', 'merge'];

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-merge-')), 'history.db');
}

let n = 0;
function entry(): HistoryEntry {
  n++;
  return {
    id: `m${n}`,
    conversationId: '',
    accountId: 'acc',
    peer: `peer${n % 7}`,
    conversationKind: 'im',
    direction: 'incoming',
    sender: `peer${n % 7}`,
    timestamp: 1_700_000_000_000 + n * 1000,
    // Words of its own too, so the index spans pages enough for a merge of many steps.
    text: `${WORDS[n % WORDS.length]} ${WORDS[(n * 3) % WORDS.length]} word${n % 101} number${n} ${Array.from({ length: 8 }, (_, i) => `own${n}x${i}`).join(' ')}`,
    flags: {},
  };
}

/** Stores `batches` batches in as many transactions: each leaves a segment in the index (FTS5 merges some of them). */
async function fill(history: SqliteHistory, batches: number, perBatch = 40): Promise<void> {
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < perBatch; i++) history.append(entry());
    await history.flush();
  }
}

/** What the index looks like to another connection: its segment count and raw structure record. */
function inspect(path: string): { segments: number; structure: string; mergedUpto: number; indexedUpto: number } {
  const db = new Database(path, { readonly: true });
  try {
    const meta = (key: string) => db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as number;
    const block = db.prepare('SELECT block FROM messages_fts_data WHERE id = 10').pluck().get() as Buffer;
    return { segments: indexSegments(db), structure: block.toString('hex'), mergedUpto: meta('fts_merged_upto'), indexedUpto: meta('fts_indexed_upto') };
  } finally {
    db.close();
  }
}

async function answers(history: SqliteHistory): Promise<string[][]> {
  const out: string[][] = [];
  for (const words of ['green', 'lunch meeting', 'word7']) {
    out.push((await history.search({ words, limit: 30 })).map((e) => e.id));
    out.push((await history.search({ words, peer: 'peer3', since: 1_700_000_000_000 + 200_000 })).map((e) => e.id));
  }
  return out;
}

const turns = async (count: number) => {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
};

afterEach(() => {
  vi.useRealTimers();
});

describe('merging the full-text index in quiet moments', () => {
  it('merges the index into one segment once nothing has been stored or searched for a while, and searches answer the same', async () => {
    const path = dbPath();
    const history = new SqliteHistory(path, { indexMerge: { idleMs: 50, minRows: 100, pagesPerStep: 1 } });
    await fill(history, 30);
    const before = inspect(path);
    expect(before.segments).toBeGreaterThan(1);
    expect(before.mergedUpto).toBe(0);
    const found = await answers(history);
    expect(found.every((ids) => ids.length > 0)).toBe(true);

    await expect.poll(() => inspect(path).segments, { timeout: 15_000, interval: 50 }).toBe(1);
    await expect.poll(() => inspect(path).mergedUpto, { timeout: 15_000, interval: 50 }).toBe(before.indexedUpto);
    expect(await answers(history)).toEqual(found);
    await history.close();

    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(() => db.prepare(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)`).run()).not.toThrow();
    db.close();
  });

  it('waits while messages or searches keep coming, and goes on from where it stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const path = dbPath();
    const history = new SqliteHistory(path, { indexMerge: { idleMs: 2000, minRows: 100, pagesPerStep: 1 } });
    await fill(history, 30);
    const filled = inspect(path).structure;

    // A message every 1.5 s: never 2 s of quiet, so nothing is merged.
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(1500);
      await fill(history, 1);
    }
    await turns(5);
    const written = inspect(path);
    expect(written.segments).toBeGreaterThan(1);
    expect(written.mergedUpto).toBe(0);

    // Two quiet seconds: merging starts, a step at a time.
    await vi.advanceTimersByTimeAsync(2000);
    for (let i = 0; i < 3; i++) await vi.advanceTimersToNextTimerAsync();
    const merging = inspect(path).structure;
    expect(merging).not.toBe(filled);
    expect(merging).not.toBe(written.structure);

    // A search pauses it: the next steps merge nothing more.
    await history.search({ words: 'green' });
    const paused = inspect(path).structure;
    for (let i = 0; i < 5; i++) await vi.advanceTimersByTimeAsync(300);
    expect(inspect(path).structure).toBe(paused);
    expect(inspect(path).segments).toBeGreaterThan(1);

    // Quiet again: it finishes.
    await vi.runAllTimersAsync();
    expect(inspect(path).segments).toBe(1);
    await history.close();
  });

  it('merges nothing before the index has grown by minRows, nor ever when turned off', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const small = dbPath();
    const off = dbPath();
    const below = new SqliteHistory(small, { indexMerge: { idleMs: 100, minRows: 5000 } });
    const never = new SqliteHistory(off, { indexMerge: false });
    await fill(below, 20);
    await fill(never, 20);
    await vi.advanceTimersByTimeAsync(10_000);
    await turns(20);
    expect(inspect(small).segments).toBeGreaterThan(1);
    expect(inspect(off).segments).toBeGreaterThan(1);
    await below.close();
    await never.close();
  });

  it('never waits on another program holding the database: it merges once the lock is gone, reporting nothing', async () => {
    const path = dbPath();
    const errors: HistoryError[] = [];
    // A step that waited for the lock would hold this thread, and so this test, for a minute.
    const options: SqliteHistoryOptions = { busyTimeoutMs: 60_000, indexMerge: { idleMs: 50, minRows: 100, pagesPerStep: 4 }, onError: (e) => errors.push(e) };
    const history = new SqliteHistory(path, options);
    await fill(history, 30);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const held = inspect(path).structure;
    // Several quiet periods pass with the lock held.
    await new Promise((resolve) => setTimeout(resolve, 400));
    await turns(5);
    expect(inspect(path).structure).toBe(held);
    other.exec('COMMIT');
    other.close();
    await expect.poll(() => inspect(path).segments, { timeout: 15_000, interval: 50 }).toBe(1);
    expect(errors).toEqual([]);
    await history.close();
  });

  it('stops at close in the middle of a merge, and the next open finishes it with nothing lost', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const path = dbPath();
    const options: SqliteHistoryOptions = { indexMerge: { idleMs: 100, minRows: 100, pagesPerStep: 1 } };
    const first = new SqliteHistory(path, options);
    await fill(first, 30);
    const found = await answers(first);
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 2; i++) await vi.advanceTimersToNextTimerAsync();
    await first.close();
    const cut = inspect(path);
    expect(cut.segments).toBeGreaterThan(1);
    expect(cut.mergedUpto).toBe(0);

    const second = new SqliteHistory(path, options);
    await vi.runAllTimersAsync();
    expect(inspect(path).segments).toBe(1);
    expect(await answers(second)).toEqual(found);
    expect((await second.search({ limit: 10_000 })).length).toBe(30 * 40);
    await second.close();
  });
});

describe('indexSegments', () => {
  function withStructure(block: Buffer | undefined): number {
    const db = new Database(':memory:');
    try {
      db.exec('CREATE TABLE messages_fts_data (id INTEGER PRIMARY KEY, block BLOB)');
      if (block !== undefined) db.prepare('INSERT INTO messages_fts_data (id, block) VALUES (10, ?)').run(block);
      return indexSegments(db);
    } finally {
      db.close();
    }
  }

  it('reads the segment count of a structure record, multi-byte counts included', () => {
    expect(withStructure(Buffer.from('0000000003089d4700020b0181600301', 'hex'))).toBe(8);
    // 300 segments: 0x82 0x2c as a varint.
    expect(withStructure(Buffer.from('0000000004822c00', 'hex'))).toBe(300);
  });

  it('answers 0 for an empty index and a cut or empty record, never reading past its end', () => {
    expect(withStructure(undefined)).toBe(0);
    expect(withStructure(Buffer.alloc(0))).toBe(0);
    expect(withStructure(Buffer.from('000000', 'hex'))).toBe(0);
    expect(withStructure(Buffer.from('0000000003', 'hex'))).toBe(0);
    expect(withStructure(Buffer.from('00000000ffffffffffffffffffff', 'hex'))).toBeGreaterThanOrEqual(0);
  });
});
