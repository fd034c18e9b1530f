import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { HistoryError } from '../errors/ParleyError.js';
import type { MessageFlags } from '../conversations/message.js';
import type { HistoryEntry, HistoryQuery, HistoryStore } from './history-store.js';
import { IndexMerger, type IndexMergeOptions } from './index-merger.js';
import { isBusy, isCorrupt } from './sqlite-errors.js';
import { emitRow, HistoryReader, type StoredRow } from './history-reader.js';
import { batchToEntries, EntryPacker, readBatch, rowToEntry, type PackedBatch, type RowSink } from './packed-entries.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  protocol_id TEXT,
  account_id TEXT NOT NULL,
  peer TEXT NOT NULL COLLATE NOCASE,
  kind TEXT NOT NULL,
  direction TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_alias TEXT,
  ts INTEGER NOT NULL,
  text TEXT NOT NULL,
  html TEXT,
  flags INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_ts ON messages (ts);
CREATE INDEX IF NOT EXISTS messages_peer ON messages (peer, ts);
DROP INDEX IF EXISTS messages_conversation;
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (text, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', detail=none, columnsize=0);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('fts_indexed_upto', 0);
INSERT OR IGNORE INTO meta (key, value) VALUES ('ts_order_upto', 0);
INSERT OR IGNORE INTO meta (key, value) VALUES ('ts_max', 0);
INSERT OR IGNORE INTO meta (key, value) VALUES ('ts_lateness', 0);
INSERT OR IGNORE INTO meta (key, value) VALUES ('fts_merged_upto', 0);
`;

/** The stored bit of each message flag (also the list of flags flagsToBits reads: keep both in step). */
export const FLAG_BITS: Record<keyof MessageFlags, number> = { delayed: 1, system: 2, error: 4, autoReply: 8, action: 16, notice: 32 };

const FLAG_ENTRIES = Object.entries(FLAG_BITS) as Array<[keyof MessageFlags, number]>;

/** Runs for every message stored: one property read per flag, not a loop over the flag names (a keyed read is several times slower). */
export function flagsToBits(flags: MessageFlags): number {
  return (
    (flags.delayed === true ? FLAG_BITS.delayed : 0) |
    (flags.system === true ? FLAG_BITS.system : 0) |
    (flags.error === true ? FLAG_BITS.error : 0) |
    (flags.autoReply === true ? FLAG_BITS.autoReply : 0) |
    (flags.action === true ? FLAG_BITS.action : 0) |
    (flags.notice === true ? FLAG_BITS.notice : 0)
  );
}
export function bitsToFlags(bits: number): MessageFlags {
  const flags: MessageFlags = {};
  if (bits === 0) return flags; // most messages
  for (const [name, bit] of FLAG_ENTRIES) if ((bits & bit) !== 0) flags[name] = true;
  return flags;
}

/** The history database's page cache, in KiB (see `open`). */
export const HISTORY_CACHE_KIB = 16_384;

/** Tuning for `new SqliteHistory(path, options)`; the defaults suit one user's history. */
export interface SqliteHistoryOptions {
  /** How long a write waits for a lock held by another process before it is retried later. */
  busyTimeoutMs?: number;
  /** Called when a write fails; the entries stay queued and are retried. */
  onError?: (error: HistoryError) => void;
  /** When the full-text index is merged in quiet moments, or `false` never to merge it. */
  indexMerge?: IndexMergeOptions | false;
}

/** The native SQLite binding, loaded when a database is first opened, not when the core is imported. */
let sqlite: typeof Database | undefined;
function loadSqlite(): typeof Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return sqlite;
}

/** Rows indexed per statement run when catching up. */
const INDEX_CHUNK = 2000;

/** Entries `append` packs into one batch. */
const APPEND_BATCH = 1000;

/**
 * History in SQLite with full-text search. Writes are grouped: appends queue
 * in memory and are committed in one transaction on the next turn of the
 * event loop, which is what makes history cheap at high message rates. WAL
 * journaling keeps the file consistent through a `kill -9` at any moment.
 * Entries that cannot be written (database locked) stay queued and are
 * retried; nothing is dropped.
 *
 * The full-text index is filled in bulk from the stored rows, in the same
 * transaction as each batch, by one statement: a trigger indexing row by row
 * costs several times more, and so does binding every text a second time
 * (reading the rows just written back costs less). The indexed position is
 * kept in the database, so rows stored by an older build or another writer
 * are indexed at the next open or search.
 */
interface OpenDatabase {
  db: Database.Database;
  /** Stores batches of entries (packed-entries.ts) and indexes them, in one transaction. */
  appendBatches: Database.Transaction<(batches: PackedBatch[]) => void>;
  indexChunk: Database.Transaction<(limit: number) => number>;
  reader: HistoryReader;
}

export class SqliteHistory implements HistoryStore {
  /** Undefined while another program keeps the file locked: appends wait in memory. */
  private handle: OpenDatabase | undefined;
  /**
   * Batches of entries waiting to be written, in order. Batches the history thread receives are
   * written as they came, never copied.
   */
  private pending: PackedBatch[] = [];
  /** Entries `append` added since the last batch was taken: they come after every pending batch. */
  private readonly tail = new EntryPacker(APPEND_BATCH);
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private retryDelayMs = 50;
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private closed = false;
  private merger: IndexMerger | undefined;

  /** Set when the database was found corrupt and moved aside: where the old file now is. */
  recoveredFrom: string | undefined;

  constructor(
    private readonly path: string,
    private readonly options: SqliteHistoryOptions = {},
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      this.ensureOpen();
    } catch (error) {
      if (!(error instanceof HistoryError) || error.code !== 'history-locked') throw error;
      // Locked by another program: start anyway; messages wait and the open is retried.
      options.onError?.(error);
      this.scheduled = setTimeout(() => this.writePending(), this.retryDelayMs);
    }
  }

  private ensureOpen(): OpenDatabase {
    if (this.handle !== undefined) return this.handle;
    let db: Database.Database;
    try {
      db = this.open();
    } catch (error) {
      if (!isCorrupt(error)) throw this.wrapOpenError(error);
      // Keep the damaged file for the user or a repair tool; start a new one.
      const recovered = `${this.path}.corrupt-${Date.now()}`;
      renameSync(this.path, recovered);
      for (const suffix of ['-wal', '-shm']) if (existsSync(this.path + suffix)) renameSync(this.path + suffix, recovered + suffix);
      this.recoveredFrom = recovered;
      db = this.open();
      this.options.onError?.(new HistoryError('history-corrupt', `The history database was damaged; it was kept at ${recovered} and a new one was started`));
    }
    const insert = db.prepare(
      // Positional parameters bind markedly faster than named ones; this runs for every message.
      `INSERT INTO messages (id, protocol_id, account_id, peer, kind, direction, sender, sender_alias, ts, text, html, flags)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const selectUnindexed = db.prepare(`SELECT rowid, text FROM messages WHERE rowid > (SELECT value FROM meta WHERE key = 'fts_indexed_upto') ORDER BY rowid LIMIT ?`);
    const indexRow = db.prepare('INSERT INTO messages_fts (rowid, text) VALUES (?, ?)');
    const indexFrom = db.prepare('INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM messages WHERE rowid > ?');
    const getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const setMeta = db.prepare('UPDATE meta SET value = ? WHERE key = ?');
    const selectUnordered = db.prepare(`SELECT rowid, ts FROM messages WHERE rowid > (SELECT value FROM meta WHERE key = 'ts_order_upto') ORDER BY rowid LIMIT ?`).raw();
    const indexChunk = db.transaction((limit: number) => {
      const rows = selectUnindexed.all(limit) as Array<{ rowid: number; text: string }>;
      for (const row of rows) indexRow.run(row.rowid, row.text);
      if (rows.length > 0) setMeta.run(rows[rows.length - 1]!.rowid, 'fts_indexed_upto');
      // The time order of the same rows (kept apart: a database indexed by an older build has none yet).
      const times = selectUnordered.all(limit) as Array<[number, number]>;
      if (times.length > 0) {
        let max = getMeta.get('ts_max') as number;
        let lateness = getMeta.get('ts_lateness') as number;
        for (const [, ts] of times) {
          // How far a message's time lies below the newest time stored before it (see orderedSearch).
          if (ts < max) lateness = Math.max(lateness, max - ts);
          else max = ts;
        }
        setMeta.run(times[times.length - 1]![0], 'ts_order_upto');
        setMeta.run(max, 'ts_max');
        setMeta.run(lateness, 'ts_lateness');
      }
      return Math.max(rows.length, times.length);
    });
    const lastRowid = db.prepare('SELECT max(rowid) FROM messages').pluck();
    // What the write in progress has stored; one row function for every write (see readBatch).
    const written = { rowid: 0, count: 0, max: 0, lateness: 0 };
    const row: RowSink = (id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags) => {
      written.rowid = insert.run(id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags).lastInsertRowid as number;
      written.count++;
      // How far a message's time lies below the newest time stored before it (see orderedSearch).
      if (ts < written.max) written.lateness = Math.max(written.lateness, written.max - ts);
      else written.max = ts;
    };
    const appendBatches = db.transaction((batches: PackedBatch[]) => {
      const before = (lastRowid.get() as number | null) ?? 0;
      // Everything stored so far is indexed (the usual case): the batch's time order is taken from memory as it is stored.
      const indexed = getMeta.get('fts_indexed_upto') === before && getMeta.get('ts_order_upto') === before;
      written.rowid = before;
      written.count = 0;
      written.max = getMeta.get('ts_max') as number;
      written.lateness = getMeta.get('ts_lateness') as number;
      for (const batch of batches) readBatch(batch, row);
      const { rowid, count, max, lateness } = written;
      if (count === 0) return;
      if (!indexed) {
        // Rows not indexed yet (stored by an older build or another writer): index from the table, in order.
        indexChunk(count + INDEX_CHUNK);
        return;
      }
      indexFrom.run(before);
      setMeta.run(rowid, 'fts_indexed_upto');
      setMeta.run(rowid, 'ts_order_upto');
      setMeta.run(max, 'ts_max');
      setMeta.run(lateness, 'ts_lateness');
    });
    this.handle = {
      db,
      appendBatches,
      indexChunk,
      reader: new HistoryReader(db),
    };
    this.indexAll();
    this.importSpool();
    if (this.options.indexMerge !== false) {
      this.merger = new IndexMerger(db, this.options.indexMerge ?? {}, (error) =>
        this.options.onError?.(new HistoryError('history-write-failed', `Merging the search index failed: ${(error as Error).message}`, { cause: error })),
      );
      // A history that grew while it was closed, or whose merge a close cut short.
      this.merger.consider();
    }
    return this.handle;
  }

  private open(): Database.Database {
    const db = new (loadSqlite())(this.path, { timeout: this.options.busyTimeoutMs ?? 2000 });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // 16 MiB of pages kept instead of SQLite's 2 MiB: a conversation's newest messages are spread
      // over many pages among everyone else's, and reading them again from the file on each
      // scroll or search costs more than the query itself.
      db.pragma(`cache_size = -${HISTORY_CACHE_KIB}`);
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') {
        const error = new Error(`quick_check: ${String(check)}`) as Error & { code: string };
        error.code = 'SQLITE_CORRUPT';
        throw error;
      }
      db.exec(SCHEMA);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private wrapOpenError(error: unknown): HistoryError {
    if (isBusy(error)) return new HistoryError('history-locked', `The history database ${this.path} is locked by another program`, { cause: error });
    return new HistoryError('history-write-failed', `Cannot open the history database ${this.path}: ${(error as Error).message}`, { cause: error });
  }

  append(entry: HistoryEntry): void {
    if (this.closed) return;
    this.tail.add(entry);
    if (this.tail.full) this.pending.push(this.tail.take());
    if (this.scheduled === undefined) this.scheduled = setImmediate(() => this.writePending());
  }

  /** @internal Appends a batch of entries (packed-entries.ts), as the history thread receives it; the batch is taken over. */
  appendPacked(batch: PackedBatch): void {
    if (this.closed || batch.count === 0) return;
    this.takeTail();
    this.pending.push(batch);
    if (this.scheduled === undefined) this.scheduled = setImmediate(() => this.writePending());
  }

  /** Entries appended one by one join the pending batches, after those before them. */
  private takeTail(): void {
    if (this.tail.size > 0) this.pending.push(this.tail.take());
  }

  private get hasPending(): boolean {
    return this.pending.length > 0 || this.tail.size > 0;
  }

  private writePending(): void {
    this.scheduled = undefined;
    this.takeTail();
    if (this.pending.length === 0) return this.settle();
    const batch = this.pending;
    this.pending = [];
    try {
      // Indexing the batch in the same transaction costs little in bulk, and keeps search exact.
      this.ensureOpen().appendBatches(batch);
      this.retryDelayMs = 50;
      this.merger?.noteActivity();
      this.merger?.consider();
      this.settle();
    } catch (error) {
      // Put the batch back in front: order is kept and nothing is lost.
      this.pending = batch.concat(this.pending);
      const wrapped = error instanceof HistoryError ? error : isBusy(error)
        ? new HistoryError('history-locked', 'The history database is locked by another program; messages are kept and will be written when it is free', { cause: error })
        : new HistoryError('history-write-failed', `Writing history failed: ${(error as Error).message}`, { cause: error });
      this.options.onError?.(wrapped);
      if (this.closed) return this.settle(wrapped);
      this.scheduled = setTimeout(() => this.writePending(), this.retryDelayMs);
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
    }
  }

  private settle(error?: unknown): void {
    if (this.hasPending && error === undefined) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (error === undefined ? w.resolve() : w.reject(error));
  }

  flush(): Promise<void> {
    if (!this.hasPending && this.scheduled === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (this.scheduled === undefined) this.scheduled = setImmediate(() => this.writePending());
    });
  }

  /** Brings the full-text index up to date (a search does this first). */
  private indexAll(): void {
    while (this.handle!.indexChunk(INDEX_CHUNK) > 0) {
      // Keep going until every stored message is indexed.
    }
  }

  async search(query: HistoryQuery): Promise<HistoryEntry[]> {
    const rows = await this.find(query);
    const entries: HistoryEntry[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      entries[i] = rowToEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
    }
    return entries;
  }

  /**
   * @internal What `search` answers, packed (packed-entries.ts) as the history thread hands it
   * back: one string and two buffers cross to the other thread for a fraction of the cost of
   * copying every entry's properties, and no entry object is made on this side.
   */
  async searchPacked(query: HistoryQuery): Promise<PackedBatch> {
    const rows = await this.find(query);
    const packer = new EntryPacker(Math.max(1, rows.length));
    for (const row of rows) emitRow(row, packer.addRow);
    return packer.take();
  }

  /** The rows matching `query`, oldest first. */
  private async find(query: HistoryQuery): Promise<StoredRow[]> {
    this.merger?.noteActivity();
    // Include what is still queued, but never wait long behind a lock held elsewhere.
    if (this.hasPending || this.scheduled !== undefined) {
      await Promise.race([this.flush().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    }
    const handle = this.ensureOpen();
    if (query.words !== undefined) {
      try {
        this.indexAll();
      } catch (error) {
        throw new HistoryError(isBusy(error) ? 'history-locked' : 'history-write-failed', `Indexing history failed: ${(error as Error).message}`, { cause: error });
      }
    }
    // Nothing bounds the scan here: this is the thread that owns the store.
    return handle.reader.find(query)!;
  }

  async recent(accountId: string, peer: string, limit: number): Promise<HistoryEntry[]> {
    return this.search({ accountId, peer, limit });
  }

  /** Entries that could not be written before the last close, kept beside the database. */
  private get spoolPath(): string {
    return `${this.path}.pending.jsonl`;
  }

  private importSpool(): void {
    if (!existsSync(this.spoolPath)) return;
    const lines = readFileSync(this.spoolPath, 'utf8').split('\n').filter((l) => l !== '');
    const packer = new EntryPacker(APPEND_BATCH);
    for (const line of lines) {
      try {
        packer.add(JSON.parse(line) as HistoryEntry);
      } catch {
        // A line cut by a crash while spooling: the rest is still worth keeping.
        continue;
      }
      if (packer.full) this.pending.push(packer.take());
    }
    if (packer.size > 0) this.pending.push(packer.take());
    this.writePending();
    if (!this.hasPending) unlinkSync(this.spoolPath);
  }

  /**
   * Writes what is pending and closes. If the database stays locked, the
   * pending entries go to a spool file beside it and are imported at the
   * next open: closing never waits forever and never drops a message.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled !== undefined) {
      clearTimeout(this.scheduled as NodeJS.Timeout);
      clearImmediate(this.scheduled as NodeJS.Immediate);
      this.scheduled = undefined;
    }
    if (this.hasPending) this.writePending();
    if (this.scheduled !== undefined) {
      clearTimeout(this.scheduled as NodeJS.Timeout);
      this.scheduled = undefined;
    }
    this.takeTail();
    if (this.pending.length > 0) {
      const lines: string[] = [];
      for (const batch of this.pending) batchToEntries(batch, (e) => lines.push(JSON.stringify(e)));
      appendFileSync(this.spoolPath, lines.join('\n') + '\n', { mode: 0o600 });
      this.pending = [];
    }
    this.settle();
    this.merger?.stop();
    this.handle?.db.close();
  }
}
