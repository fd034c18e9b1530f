// Merges the full-text index in quiet moments. Each write adds a segment to
// the FTS5 index and FTS5 merges them only level by level, so a large history
// is spread over several segments, and a search reads each of them: with
// 1,000,000 messages, a common word's newest matches took twice as long to
// find over eight segments as over one. Merging everything into one rewrites
// the whole index, so it is done only once the index has grown by a tenth
// since its last merge, a few pages per step, when nothing has been stored or
// searched for a while; a message or a search arriving waits for one step at
// most, and merging picks up where it stopped at the next quiet moment (the
// merge's progress is kept in the index itself).
import type Database from 'better-sqlite3';
import { isBusy } from './sqlite-errors.js';

/** When and how the full-text index is merged (see index-merger.ts). */
export interface IndexMergeOptions {
  /** How long nothing must have been stored or searched before merging starts (ms). Default 2,000. */
  idleMs?: number;
  /** Messages indexed since the last merge before another is due; a tenth of the index when that is more. Default 10,000. */
  minRows?: number;
  /** Index pages written per step: what a message or search arriving during a merge waits for at most. Default 32. */
  pagesPerStep?: number;
}

const DEFAULTS: Required<IndexMergeOptions> = { idleMs: 2000, minRows: 10_000, pagesPerStep: 32 };

/** The share of the index that must be new since its last merge before another is due. */
const GROWTH = 0.1;

export class IndexMerger {
  private readonly settings: Required<IndexMergeOptions>;
  private readonly merge: Database.Statement;
  private readonly totalChanges: Database.Statement;
  private readonly getMeta: Database.Statement;
  private readonly setMeta: Database.Statement;
  /** How long the store's own statements wait for a lock held elsewhere; a merge step does not wait. */
  private readonly busyTimeoutMs: number;
  private lastActivity = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    options: IndexMergeOptions,
    /** A step failed for another reason than a lock held elsewhere; merging waits for the next write. */
    private readonly onError: (error: unknown) => void,
  ) {
    this.settings = { ...DEFAULTS, ...options };
    this.merge = db.prepare(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', ?)`);
    this.totalChanges = db.prepare('SELECT total_changes()').pluck();
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.setMeta = db.prepare('UPDATE meta SET value = ? WHERE key = ?');
    this.busyTimeoutMs = db.pragma('busy_timeout', { simple: true }) as number;
  }

  /** Something was stored or searched: merging waits until it has been quiet for `idleMs`. */
  noteActivity(): void {
    this.lastActivity = performance.now();
  }

  /** Starts waiting for a quiet moment if the index has grown enough since its last merge (after a write, and at open). */
  consider(): void {
    if (this.timer !== undefined || this.stopped) return;
    const indexed = this.getMeta.get('fts_indexed_upto') as number;
    const merged = this.getMeta.get('fts_merged_upto') as number;
    if (indexed - merged < Math.max(this.settings.minRows, indexed * GROWTH)) return;
    if (indexSegments(this.db) <= 1) {
      // Written in one piece (an import in one transaction): nothing to merge.
      this.setMeta.run(indexed, 'fts_merged_upto');
      return;
    }
    this.wait(this.settings.idleMs);
  }

  /** Stops merging (the store is closing); what was merged so far stays merged. */
  stop(): void {
    this.stopped = true;
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(ms: number): void {
    // A pending merge never keeps the process (or the history thread) alive.
    this.timer = setTimeout(() => this.step(), ms).unref();
  }

  private step(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const quietFor = performance.now() - this.lastActivity;
    if (quietFor < this.settings.idleMs) return this.wait(this.settings.idleMs - quietFor);
    // Waiting for another program's lock would hold up this thread's messages and searches.
    this.db.pragma('busy_timeout = 0');
    try {
      const before = this.totalChanges.get() as number;
      // A negative page count merges every segment into one, as 'optimize' does, but only this much of it.
      this.merge.run(-this.settings.pagesPerStep);
      // FTS5 counts fewer than two changes for a merge that found nothing left to do.
      if ((this.totalChanges.get() as number) - before < 2) {
        this.setMeta.run(this.getMeta.get('fts_indexed_upto'), 'fts_merged_upto');
        return;
      }
    } catch (error) {
      // Another program writing: try again at the next quiet moment.
      if (isBusy(error)) return this.wait(this.settings.idleMs);
      return this.onError(error);
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
    // The next step on a later turn, so messages and searches that came in go first. A timer, not
    // an immediate: an unreferenced immediate waits for something else to wake the event loop.
    this.wait(0);
  }
}

/**
 * How many segments the history's full-text index is in: the second number of
 * the FTS5 structure record (row 10 of its data table: a 4-byte cookie, then
 * the level count and the segment count as SQLite varints).
 */
export function indexSegments(db: Database.Database): number {
  const row = db.prepare('SELECT block FROM messages_fts_data WHERE id = 10').get() as { block: Uint8Array } | undefined;
  if (row === undefined) return 0;
  let at = 4;
  const varint = (): number => {
    let value = 0;
    for (let i = 0; i < 9 && at < row.block.length; i++) {
      const byte = row.block[at++]!;
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) break;
    }
    return value;
  };
  varint(); // levels
  return varint();
}
