// Answers history searches from a connection to the history database: the
// store's own, or a read-only one on another thread. It only reads; keeping
// the index up to date is the store's job (see SqliteHistory).
import type Database from 'better-sqlite3';
import { HistoryError } from '../errors/ParleyError.js';
import type { HistoryQuery } from './history-store.js';
import type { RowSink } from './packed-entries.js';

/** The columns a search reads, in the order of the store's INSERT (a RowSink's parameters). */
const ROW_COLUMNS = 'm.id, m.protocol_id, m.account_id, m.peer, m.kind, m.direction, m.sender, m.sender_alias, m.ts, m.text, m.html, m.flags';

/** A row of ROW_COLUMNS, read raw: an array is made faster than an object with a property per column. */
export type StoredRow = [string, string | null, string, string, string, string, string, string | null, number, string, string | null, number, ...number[]];
/** A full-text match: the stored row, then its rowid. */
type MatchRow = [...StoredRow, number];
const ACCOUNT = 2;
const TS = 8;
const ROWID = 12;

/** Calls `sink` with a stored row's values. */
export function emitRow(r: StoredRow, sink: RowSink): void {
  sink(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
}

/** Search statements kept prepared (a statement per search shape and limit). */
const SEARCH_STATEMENTS = 32;

/**
 * Turns what a person typed into an FTS5 query that matches all the words,
 * with no FTS syntax of its own: every word is quoted, so `"`, `*`, `NEAR`
 * or `OR` in the input are just text.
 */
export function toFtsQuery(words: string): string | undefined {
  const tokens = words.match(/[\p{L}\p{N}_]+/gu);
  if (tokens === null) return undefined;
  return tokens.map((t) => `"${t}"`).join(' ');
}

function hasWords(query: HistoryQuery): boolean {
  return query.words !== undefined && query.words.trim() !== '';
}

/**
 * Whether every row a search of this shape looks at passes through `find`'s loop, so that its
 * `maxScanned` bounds the work: true unless the full-text index's matches are also filtered by
 * peer or account inside SQLite.
 */
export function scanIsCounted(query: HistoryQuery): boolean {
  return !hasWords(query) || (query.peer === undefined && query.accountId === undefined);
}

export class HistoryReader {
  /** Search statements by their SQL, most recently used last: preparing one costs more than running it. */
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lateness: Database.Statement;
  private readonly progress: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.lateness = db.prepare(`SELECT value FROM meta WHERE key = 'ts_lateness'`).pluck();
    this.progress = db.prepare(
      `SELECT (SELECT value FROM meta WHERE key = 'fts_indexed_upto'), (SELECT value FROM meta WHERE key = 'ts_order_upto'), (SELECT max(rowid) FROM messages)`,
    ).raw();
  }

  /** Whether every stored message is in the full-text index and counted in its time order (a word search needs both). */
  indexCurrent(): boolean {
    const [indexed, ordered, last] = this.progress.get() as [number, number, number | null];
    return last === null || (indexed >= last && ordered >= last);
  }

  /**
   * The rows matching `query`, oldest first; undefined when more than
   * `maxScanned` rows were looked at (see `scanIsCounted`).
   */
  find(query: HistoryQuery, maxScanned = Infinity): StoredRow[] | undefined {
    const limit = Math.max(1, Math.min(query.limit ?? 200, 10_000));
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.peer !== undefined) {
      where.push('m.peer = @peer');
      params.peer = query.peer;
    }
    try {
      if (hasWords(query)) {
        const fts = toFtsQuery(query.words!);
        if (fts === undefined) return [];
        if (query.accountId !== undefined) {
          where.push('m.account_id = @account');
          params.account = query.accountId;
        }
        where.unshift('messages_fts MATCH @fts');
        params.fts = fts;
        return this.orderedSearch(where, params, query, limit, maxScanned);
      }
      // Without words, the (peer, ts) or (ts) index gives the newest first and the scan stops at the limit. A peer's
      // messages on one account are found through (peer, ts) too, the account checked here: a peer name is rarely on
      // several accounts, and an (account_id, peer, ts) index made every stored message cost a quarter more to write.
      if (query.since !== undefined) {
        where.push('m.ts >= @since');
        params.since = query.since;
      }
      if (query.until !== undefined) {
        where.push('m.ts < @until');
        params.until = query.until;
      }
      const account = query.accountId;
      const sql = `SELECT ${ROW_COLUMNS} FROM messages m ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY m.ts DESC, m.rowid DESC${account === undefined ? ` LIMIT ${limit}` : ''}`;
      const rows: StoredRow[] = [];
      let scanned = 0;
      for (const row of this.prepared(sql).raw().iterate(params) as IterableIterator<StoredRow>) {
        if (++scanned > maxScanned) return undefined;
        if (account !== undefined && row[ACCOUNT] !== account) continue;
        rows.push(row);
        if (rows.length === limit) break;
      }
      return rows.reverse();
    } catch (error) {
      throw new HistoryError('history-invalid-query', `History search failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * A full-text search, newest `limit` matches by time. The index yields
   * matches newest-stored first and the scan stops as soon as no older
   * message can rank: every message stored before one with time `t` has a
   * time of at most `t + lateness`, where lateness is the furthest any stored
   * message's time lies below the newest stored before it (0 when messages
   * arrive in time order; a delayed or imported message raises it). So a
   * common word finds its newest 50 without collecting every match, and the
   * answer is the same as sorting every match by time.
   */
  private orderedSearch(where: string[], params: Record<string, unknown>, query: HistoryQuery, limit: number, maxScanned: number): StoredRow[] | undefined {
    const lateness = this.lateness.get() as number;
    // Read raw, every column in the scan: the scan reads little beyond the rows it answers, and
    // reading those again by rowid afterwards costs a statement run each.
    const sql = `SELECT ${ROW_COLUMNS}, f.rowid FROM messages_fts f JOIN messages m ON m.rowid = f.rowid WHERE ${where.join(' AND ')} ORDER BY f.rowid DESC`;
    const byTimeThenRowid = (a: MatchRow, b: MatchRow) => b[TS] - a[TS] || b[ROWID] - a[ROWID];
    let best: MatchRow[] = [];
    let threshold = -Infinity; // the time of the limit-th best match found so far: a lower bound of the final one
    let scanned = 0;
    for (const row of this.prepared(sql).raw().iterate(params) as IterableIterator<MatchRow>) {
      if (++scanned > maxScanned) return undefined;
      const ts = row[TS];
      const bound = ts + lateness; // no message stored before this one is newer than this
      if (query.since !== undefined && bound < query.since) break;
      if (best.length >= limit && bound <= threshold) {
        // Only this row can still rank; none before it can.
        if ((query.since === undefined || ts >= query.since) && (query.until === undefined || ts < query.until)) best.push(row);
        break;
      }
      if (query.since !== undefined && ts < query.since) continue;
      if (query.until !== undefined && ts >= query.until) continue;
      best.push(row);
      if (best.length === limit || best.length >= 2 * limit) {
        best.sort(byTimeThenRowid);
        best = best.slice(0, limit);
        threshold = best[limit - 1]![TS];
      }
    }
    best.sort(byTimeThenRowid);
    return best.slice(0, limit).reverse();
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement !== undefined) {
      this.statements.delete(sql);
    } else {
      statement = this.db.prepare(sql);
      if (this.statements.size >= SEARCH_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, statement);
    return statement;
  }
}
