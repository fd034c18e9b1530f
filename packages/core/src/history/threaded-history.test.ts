import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HistoryEntry } from './history-store.js';
import { ThreadedHistory } from './threaded-history.js';

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'parley-threaded-')), 'history.db');
}

function entry(i: number, text: string, peer = 'bob', accountId = 'acc'): HistoryEntry {
  return { id: `m${i}`, conversationId: '', accountId, peer, conversationKind: 'im', direction: 'incoming', sender: peer, timestamp: 1_700_000_000_000 + i * 1000, text, flags: {} };
}

const open: ThreadedHistory[] = [];
async function start(path = dbPath()): Promise<{ history: ThreadedHistory; searchesPosted: () => number }> {
  const history = (await ThreadedHistory.open(path))!;
  expect(history, 'the history worker is built (npm run build)').toBeDefined();
  open.push(history);
  // What the history thread is asked: a search posted to it was not answered here.
  const post = vi.spyOn((history as unknown as { worker: Worker }).worker, 'postMessage');
  const searchesPosted = () => post.mock.calls.filter(([request]) => (request as { type: string }).type === 'search').length;
  return { history, searchesPosted };
}

afterEach(async () => {
  for (const history of open.splice(0)) await history.close();
});

describe('ThreadedHistory searches', () => {
  it('answers a search whose scan is bounded on this thread once the history thread has written what came before it', async () => {
    const { history, searchesPosted } = await start();
    for (let i = 0; i < 100; i++) history.append(entry(i, i % 2 === 0 ? 'green build' : 'lunch', i % 3 === 0 ? 'carol' : 'bob', i % 5 === 0 ? 'other' : 'acc'));
    // Not written yet: the history thread writes them, then answers.
    const newestGreen = Array.from({ length: 10 }, (_, k) => `m${80 + 2 * k}`);
    expect((await history.search({ words: 'green', limit: 10 })).map((e) => e.id)).toEqual(newestGreen);
    expect(searchesPosted()).toBe(1);
    // Once the thread has reported them written (after each write, without a flush), searches are read here.
    await expect.poll(async () => {
      const before = searchesPosted();
      expect((await history.search({ words: 'green', limit: 10 })).map((e) => e.id)).toEqual(newestGreen);
      return searchesPosted() - before;
    }).toBe(0);
    const posted = searchesPosted();
    expect((await history.search({ peer: 'CAROL', limit: 3 })).map((e) => e.id)).toEqual(['m93', 'm96', 'm99']);
    expect((await history.search({ peer: 'bob', accountId: 'other', limit: 2 })).map((e) => e.id)).toEqual(['m85', 'm95']);
    expect((await history.search({ words: 'lunch', since: 1_700_000_000_000 + 95_000 })).map((e) => e.id)).toEqual(['m95', 'm97', 'm99']);
    expect(await history.search({ words: '"*' })).toEqual([]);
    expect(searchesPosted()).toBe(posted);

    // A message appended just before a search is in its answer, wherever it is read.
    history.append(entry(100, 'green again'));
    expect((await history.search({ words: 'green', limit: 1 }))[0]).toEqual(entry(100, 'green again'));
    // And after a flush, read here.
    history.append(entry(101, 'green once more'));
    await history.flush();
    const flushed = searchesPosted();
    expect((await history.search({ words: 'green', limit: 1 }))[0]).toEqual(entry(101, 'green once more'));
    expect(searchesPosted()).toBe(flushed);
  });

  it('leaves a word search filtered by peer or account, and one that looks at too many rows, to the history thread', async () => {
    const { history, searchesPosted } = await start();
    for (let i = 0; i < 3000; i++) history.append(entry(i, 'green', i % 2 === 0 ? 'bob' : 'carol'));
    await history.flush();
    expect((await history.search({ words: 'green', peer: 'carol', limit: 2 })).map((e) => e.id)).toEqual(['m2997', 'm2999']);
    expect(searchesPosted()).toBe(1);
    expect((await history.search({ words: 'green', accountId: 'acc', limit: 1 })).map((e) => e.id)).toEqual(['m2999']);
    expect(searchesPosted()).toBe(2);
    // 2,500 matches to collect: past what a search here may look at.
    const many = await history.search({ words: 'green', limit: 2500 });
    expect(many).toHaveLength(2500);
    expect(many[0]!.id).toBe('m500');
    expect(searchesPosted()).toBe(3);
    // Without words: answered here while it looks at no more than 2,000 rows.
    expect(await history.search({ peer: 'bob', limit: 2500 })).toHaveLength(1500);
    expect(searchesPosted()).toBe(3);
    expect(await history.search({ limit: 2500 })).toHaveLength(2500);
    expect(searchesPosted()).toBe(4);
  });

  it('has the history thread index what another program stored before a word search answers', async () => {
    const path = dbPath();
    const { history, searchesPosted } = await start(path);
    history.append(entry(1, 'green one'));
    await history.flush();
    // Another writer (an older build) stores a row and indexes nothing.
    const other = new Database(path);
    other.prepare(`INSERT INTO messages (id, account_id, peer, kind, direction, sender, ts, text) VALUES ('x1', 'acc', 'bob', 'im', 'incoming', 'bob', 1700000005000, 'green two')`).run();
    other.close();
    expect((await history.search({ words: 'green' })).map((e) => e.id)).toEqual(['m1', 'x1']);
    expect(searchesPosted()).toBe(1);
    // Indexed now: the next one is answered here.
    expect((await history.search({ words: 'two' })).map((e) => e.id)).toEqual(['x1']);
    expect(searchesPosted()).toBe(1);
  });

  it('reports a search SQLite refuses as the history thread does, with its typed error', async () => {
    const { history, searchesPosted } = await start();
    history.append(entry(1, 'green'));
    await expect(history.search({ limit: Number.NaN })).rejects.toMatchObject({ name: 'HistoryError', code: 'history-invalid-query' });
    expect(searchesPosted()).toBe(1);
    // Nothing was lost on the way.
    expect((await history.search({})).map((e) => e.id)).toEqual(['m1']);
  });
});
