import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HistoryError } from '../errors/ParleyError.js';
import type { Message } from '../conversations/message.js';
import type { HistoryEntry, HistoryQuery, HistoryStore } from './history-store.js';
import type { WorkerReply, WorkerRequest } from './history-worker.js';
import type Database from 'better-sqlite3';
import { HistoryReader, scanIsCounted, type StoredRow } from './history-reader.js';
import { batchToEntries, batchTransfer, EntryPacker, rowToEntry } from './packed-entries.js';
import { HISTORY_CACHE_KIB } from './sqlite-history.js';

/** Entries buffered before they are posted without waiting for the end of the turn. */
const POST_SLICE = 1000;

/**
 * Rows a search answered on the calling thread may look at (about a millisecond); past that it
 * goes to the history thread, where a long search holds up nothing else.
 */
const SCAN_HERE = 2000;

type HistoryErrorCode = ConstructorParameters<typeof HistoryError>[0];

function workerScript(): URL | undefined {
  const sibling = new URL('./history-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  // Running from TypeScript sources (tests): use the built worker if there is one.
  const built = new URL('../../dist/history/history-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : undefined;
}

/**
 * The SQLite history on a worker thread. `append` only buffers; each turn of
 * the event loop posts the buffer to the worker, which stores and indexes it
 * exactly as SqliteHistory does in process. Messages posted keep their order,
 * so a flush or search sent after them sees them.
 *
 * A search whose work is bounded (see `scanIsCounted`) is answered on the
 * calling thread through a read-only connection when everything posted has
 * been reported written (the thread reports after each write): a round trip to the history thread cost more than the search
 * itself, and waking a sleeping thread costs more again on a busy machine.
 * Any other search, one that looks at more than SCAN_HERE rows, and any
 * search while the database cannot be read here go to the history thread.
 */
export class ThreadedHistory implements HistoryStore {
  /** Entries packed into one string and two buffers (see packed-entries.ts), for a cheap crossing to the thread. */
  private readonly buffer = new EntryPacker(POST_SLICE);
  private scheduled: NodeJS.Immediate | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: HistoryEntry[] | undefined) => void; reject: (error: unknown) => void }>();
  private closed = false;
  /** Batches posted to the thread, and how many of them it has reported written (in order). */
  private batchesPosted = 0;
  private batchesWritten = 0;
  /** The read-only connection searches use on this thread; null once it could not be opened. */
  private reader: { db: Database.Database; history: HistoryReader } | null | undefined;

  private constructor(
    private readonly path: string,
    private readonly worker: Worker,
    readonly recoveredFrom: string | undefined,
    private readonly onError: (error: HistoryError) => void,
  ) {
    worker.on('message', (reply: WorkerReply) => this.handle(reply));
    worker.on('error', (error) => this.lost(error));
    worker.on('exit', () => this.lost(new Error('the history thread stopped')));
    worker.unref();
  }

  /** Starts the worker and opens the database; undefined when no built worker is available. */
  static async open(path: string, onError: (error: HistoryError) => void = () => {}): Promise<ThreadedHistory | undefined> {
    const script = workerScript();
    if (script === undefined) return undefined;
    // The thread gets no flags of ours: `--input-type` or `--eval` would stop it loading its file.
    const worker = new Worker(script, { workerData: { path }, execArgv: [] });
    const first = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.type === 'failed') {
      await worker.terminate();
      throw new HistoryError(first.code as HistoryErrorCode, first.message);
    }
    return new ThreadedHistory(path, worker, first.type === 'ready' ? first.recoveredFrom : undefined, onError);
  }

  private handle(reply: WorkerReply): void {
    if (reply.type === 'written') {
      this.batchesWritten = Math.max(this.batchesWritten, reply.upTo);
      return;
    }
    if (reply.type === 'error') {
      this.onError(new HistoryError(reply.code as HistoryErrorCode, reply.message));
      return;
    }
    if (reply.type !== 'done' && reply.type !== 'found' && reply.type !== 'rejected') return;
    const waiter = this.waiting.get(reply.id);
    if (waiter === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.type === 'done') waiter.resolve(undefined);
    else if (reply.type === 'found') {
      const entries: HistoryEntry[] = [];
      batchToEntries(reply.batch, (entry) => entries.push(entry));
      waiter.resolve(entries);
    } else waiter.reject(new HistoryError(reply.code as HistoryErrorCode, reply.message));
  }

  private lost(cause: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.reader?.db.close();
    this.reader = null;
    const error = new HistoryError('history-write-failed', `History stopped: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.onError(error);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  private post(request: WorkerRequest): void {
    this.worker.postMessage(request);
  }

  private sendBuffer(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.buffer.size === 0 || this.closed) return;
    const batch = this.buffer.take();
    this.batchesPosted++;
    // The batch's buffers move to the thread instead of being copied.
    this.worker.postMessage({ type: 'append', batch } satisfies WorkerRequest, batchTransfer(batch));
  }

  private request(make: (id: number) => WorkerRequest): Promise<HistoryEntry[] | undefined> {
    if (this.closed) return Promise.reject(new HistoryError('history-write-failed', 'History is closed'));
    this.sendBuffer();
    const id = this.nextId++;
    // An idle history thread must not keep the process alive, a pending answer must.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post(make(id));
    });
  }

  append(entry: HistoryEntry): void {
    if (this.closed) return;
    this.buffer.add(entry);
    this.sendWhenDue();
  }

  /** Appends a message of the conversation with this peer or room, as `append` would its history entry, without making one. */
  appendMessage(message: Message, peer: string, conversationKind: HistoryEntry['conversationKind']): void {
    if (this.closed) return;
    this.buffer.addMessage(message, peer, conversationKind);
    this.sendWhenDue();
  }

  private sendWhenDue(): void {
    // A burst handled in one turn (a backlog replayed, a busy room) goes over in slices, so the
    // thread writes the first while this one still works through the rest.
    if (this.buffer.full) this.sendBuffer();
    else this.scheduled ??= setImmediate(() => this.sendBuffer());
  }

  async flush(): Promise<void> {
    this.sendBuffer();
    const posted = this.batchesPosted;
    await this.request((id) => ({ type: 'flush', id }));
    this.batchesWritten = Math.max(this.batchesWritten, posted);
  }

  async search(query: HistoryQuery): Promise<HistoryEntry[]> {
    const rows = this.searchHere(query);
    if (rows === undefined) return (await this.request((id) => ({ type: 'search', id, query }))) ?? [];
    const entries: HistoryEntry[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      entries[i] = rowToEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]);
    }
    return entries;
  }

  /** The search's rows read on this thread, or undefined when the history thread must answer it. */
  private searchHere(query: HistoryQuery): StoredRow[] | undefined {
    if (this.closed || !scanIsCounted(query)) return undefined;
    // Messages not written yet: the thread writes them before it searches (and does not wait
    // long for a database another program holds).
    if (this.buffer.size > 0 || this.batchesWritten < this.batchesPosted) return undefined;
    const reader = this.openReader();
    if (reader === undefined) return undefined;
    try {
      // Messages another program stored are indexed by the history thread first.
      if (query.words !== undefined && !reader.indexCurrent()) return undefined;
      return reader.find(query, SCAN_HERE);
    } catch {
      return undefined; // a lock during recovery, a query SQLite refuses: the thread answers (or reports) it
    }
  }

  private openReader(): HistoryReader | undefined {
    if (this.reader === undefined) {
      try {
        const db = new (createRequire(import.meta.url)('better-sqlite3') as typeof Database)(this.path, { readonly: true, fileMustExist: true });
        db.pragma(`cache_size = -${HISTORY_CACHE_KIB}`);
        this.reader = { db, history: new HistoryReader(db) };
      } catch {
        this.reader = null;
      }
    }
    return this.reader?.history;
  }

  async recent(accountId: string, peer: string, limit: number): Promise<HistoryEntry[]> {
    return this.search({ accountId, peer, limit });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.reader?.db.close();
    this.reader = null;
    try {
      await this.request((id) => ({ type: 'close', id }));
    } finally {
      this.closed = true;
      await this.worker.terminate();
    }
  }
}
