import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { HistoryError } from '../errors/ParleyError.js';
import type { HistoryEntry } from './history-store.js';
import { EntryPacker } from './packed-entries.js';
import { toFtsQuery } from './history-reader.js';
import { SqliteHistory } from './sqlite-history.js';

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-history-')), 'history.db');
}

let n = 0;
function entry(text: string, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  n++;
  return {
    id: `m${n}-${Math.random()}`,
    conversationId: 'c',
    accountId: 'acc',
    peer: 'bob',
    conversationKind: 'im',
    direction: 'incoming',
    sender: 'bob',
    timestamp: 1_700_000_000_000 + n,
    text,
    flags: {},
    ...overrides,
  };
}

describe('toFtsQuery', () => {
  it('quotes every word so FTS syntax in user input is plain text', () => {
    expect(toFtsQuery('hello world')).toBe('"hello" "world"');
    expect(toFtsQuery('a" OR 1=1 --')).toBe('"a" "OR" "1" "1"');
    expect(toFtsQuery('NEAR(x y) * ^')).toBe('"NEAR" "x" "y"');
    expect(toFtsQuery('  ***  ')).toBeUndefined();
    expect(toFtsQuery('grüße café')).toBe('"grüße" "café"');
  });
});

describe('SqliteHistory', () => {
  it('searches by words, peer, account and time range', async () => {
    const history = new SqliteHistory(dbPath());
    history.append(entry('the build is green', { timestamp: 1000 }));
    history.append(entry('lunch?', { peer: 'carol', timestamp: 2000 }));
    history.append(entry('Green light for the release', { accountId: 'other', timestamp: 3000, flags: { delayed: true } }));
    expect((await history.search({ words: 'green' })).map((e) => e.text)).toEqual(['the build is green', 'Green light for the release']);
    expect((await history.search({ words: 'green', accountId: 'other' }))[0]!.flags).toEqual({ delayed: true });
    expect((await history.search({ peer: 'CAROL' })).map((e) => e.text)).toEqual(['lunch?']);
    expect((await history.search({ since: 1500, until: 3000 })).map((e) => e.text)).toEqual(['lunch?']);
    expect(await history.search({ words: '"' })).toEqual([]);
    await history.close();
  });

  it('indexes rows another program stored meanwhile along with its own next batch', async () => {
    const path = dbPath();
    const history = new SqliteHistory(path);
    history.append(entry('first green', { timestamp: 1000 }));
    await history.flush();
    // Another writer (an older build) stores a row and indexes nothing.
    const other = new Database(path);
    other.prepare(`INSERT INTO messages (id, account_id, peer, kind, direction, sender, ts, text) VALUES ('x1', 'acc', 'bob', 'im', 'incoming', 'bob', 900, 'second green')`).run();
    other.close();
    history.append(entry('third green', { timestamp: 2000 }));
    await history.flush();
    history.append(entry('fourth green', { timestamp: 3000 }));
    expect((await history.search({ words: 'green' })).map((e) => e.text)).toEqual(['second green', 'first green', 'third green', 'fourth green']);
    // The late row (900 after 1000) is known, so a search since 950 still stops at the right place.
    expect((await history.search({ words: 'green', since: 950, limit: 2 })).map((e) => e.text)).toEqual(['third green', 'fourth green']);
    await history.close();
  });

  it('writes batches handed over as the history thread receives them and single entries in the order they came', async () => {
    const history = new SqliteHistory(dbPath());
    const packer = new EntryPacker();
    packer.add(entry('one green', { timestamp: 1000 }));
    packer.add(entry('two green', { timestamp: 2000 }));
    history.appendPacked(packer.take());
    history.append(entry('three green', { timestamp: 3000 }));
    history.append(entry('four green', { timestamp: 4000 }));
    packer.add(entry('five green', { timestamp: 5000, senderAlias: 'Bob', formatted: { html: '<b>five</b> green' } }));
    history.appendPacked(packer.take());
    history.append(entry('six green', { timestamp: 6000 }));
    const found = await history.search({ words: 'green' });
    expect(found.map((e) => e.text)).toEqual(['one green', 'two green', 'three green', 'four green', 'five green', 'six green']);
    expect(found[4]).toMatchObject({ senderAlias: 'Bob', formatted: { html: '<b>five</b> green' } });
    expect((await history.search({ words: 'green', since: 2500, limit: 2 })).map((e) => e.text)).toEqual(['five green', 'six green']);
    await history.close();
  });

  it('keeps the order of a turn of more single entries than one batch holds, with a batch handed over amid them', async () => {
    const history = new SqliteHistory(dbPath());
    const texts = Array.from({ length: 2500 }, (_, i) => `single ${i} blue`);
    for (const text of texts.slice(0, 2300)) history.append(entry(text, { timestamp: 10_000 }));
    const packer = new EntryPacker();
    packer.add(entry('handed over blue', { timestamp: 10_000 }));
    history.appendPacked(packer.take());
    for (const text of texts.slice(2300)) history.append(entry(text, { timestamp: 10_000 }));
    const found = await history.search({ words: 'blue', limit: 10_000 });
    expect(found.map((e) => e.text)).toEqual([...texts.slice(0, 2300), 'handed over blue', ...texts.slice(2300)]);
    await history.close();
  });

  it('moves a corrupt database aside, keeps it, and starts a new one', async () => {
    const path = dbPath();
    writeFileSync(path, Buffer.alloc(8192, 0x5a)); // not an SQLite file at all
    const errors: HistoryError[] = [];
    const history = new SqliteHistory(path, { onError: (e) => errors.push(e) });
    expect(history.recoveredFrom).toMatch(/history\.db\.corrupt-\d+$/);
    expect(existsSync(history.recoveredFrom!)).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(['history-corrupt']);
    history.append(entry('after recovery'));
    expect((await history.search({ words: 'recovery' })).length).toBe(1);
    await history.close();
  });

  it('keeps messages while another program locks the database, and writes them once it is free', async () => {
    const path = dbPath();
    const errors: string[] = [];
    const history = new SqliteHistory(path, { busyTimeoutMs: 10, onError: (e) => errors.push(e.code) });
    history.append(entry('before the lock'));
    await history.flush();
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    history.append(entry('during the lock'));
    const flushed = history.flush();
    // The write meets the lock and reports it: wait for that report, not for a while.
    for (let i = 0; i < 1000 && !errors.includes('history-locked'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(errors).toContain('history-locked');
    other.exec('COMMIT');
    other.close();
    await flushed;
    expect((await history.search({ words: 'lock' })).map((e) => e.text)).toEqual(['before the lock', 'during the lock']);
    await history.close();
  }, 20_000);

  it('starts while the file is locked, reports it, and writes the waiting messages once it is free', async () => {
    const path = dbPath();
    await new SqliteHistory(path).close();
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    const errors: string[] = [];
    const history = new SqliteHistory(path, { busyTimeoutMs: 10, onError: (e) => errors.push(e.code) });
    expect(errors[0]).toBe('history-locked');
    history.append(entry('queued while locked'));
    await expect(history.search({ words: 'queued' })).rejects.toMatchObject({ code: 'history-locked' });
    other.exec('COMMIT');
    other.close();
    await history.flush();
    expect((await history.search({ words: 'queued' })).map((e) => e.text)).toEqual(['queued while locked']);
    await history.close();
  }, 20_000);

  it('spools what it could not write at close and imports it at the next open', async () => {
    const path = dbPath();
    const first = new SqliteHistory(path, { busyTimeoutMs: 10 });
    await first.flush();
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    first.append(entry('written at the last moment'));
    await first.close();
    other.exec('COMMIT');
    other.close();
    expect(readdirSync(join(path, '..'))).toContain('history.db.pending.jsonl');
    const second = new SqliteHistory(path);
    expect((await second.search({ words: 'moment' })).map((e) => e.text)).toEqual(['written at the last moment']);
    expect(readdirSync(join(path, '..'))).not.toContain('history.db.pending.jsonl');
    await second.close();
  }, 20_000);
});
