// Runs the SQLite history on its own thread: the message path only posts
// batches, and inserting and indexing happen on another core.
import { parentPort, workerData } from 'node:worker_threads';
import { ParleyError } from '../errors/ParleyError.js';
import type { HistoryQuery } from './history-store.js';
import { SqliteHistory } from './sqlite-history.js';
import { batchTransfer, type PackedBatch } from './packed-entries.js';

export type WorkerRequest =
  | { type: 'append'; batch: PackedBatch }
  | { type: 'flush'; id: number }
  | { type: 'search'; id: number; query: HistoryQuery }
  | { type: 'close'; id: number };

export type WorkerReply =
  | { type: 'ready'; recoveredFrom: string | undefined }
  | { type: 'failed'; code: string; message: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'done'; id: number }
  /** Every batch up to the `upTo`-th the thread received is written (sent after each write, not asked for). */
  | { type: 'written'; upTo: number }
  /** A search's answer, packed; its buffers are handed over. */
  | { type: 'found'; id: number; batch: PackedBatch }
  | { type: 'rejected'; id: number; code: string; message: string };

const port = parentPort!;
const send = (reply: WorkerReply) => port.postMessage(reply);
const describe = (error: unknown) => ({
  code: ParleyError.isParleyError(error) ? error.code : 'history-write-failed',
  message: error instanceof Error ? error.message : String(error),
});

let history: SqliteHistory;
try {
  history = new SqliteHistory((workerData as { path: string }).path, {
    onError: (error) => send({ type: 'error', code: error.code, message: error.message }),
  });
  send({ type: 'ready', recoveredFrom: history.recoveredFrom });
} catch (error) {
  send({ type: 'failed', ...describe(error) });
  process.exit(0);
}

/** Batches received, and whether a report of them written is on its way. */
let received = 0;
let reporting = false;
/**
 * Tells the other thread once what it posted is written, so it can read its searches itself
 * (see ThreadedHistory). One report at a time, covering every batch received before it; while
 * the database stays locked by another program, none.
 */
function reportWritten(): void {
  if (reporting) return;
  reporting = true;
  const upTo = received;
  history
    .flush()
    .then(
      () => send({ type: 'written', upTo }),
      () => {},
    )
    .finally(() => {
      reporting = false;
      if (received > upTo) reportWritten();
    });
}

port.on('message', (request: WorkerRequest) => {
  switch (request.type) {
    case 'append':
      history.appendPacked(request.batch);
      received++;
      reportWritten();
      return;
    case 'flush':
      history.flush().then(
        () => send({ type: 'done', id: request.id }),
        (error: unknown) => send({ type: 'rejected', id: request.id, ...describe(error) }),
      );
      return;
    case 'search':
      history.searchPacked(request.query).then(
        (batch) => port.postMessage({ type: 'found', id: request.id, batch } satisfies WorkerReply, batchTransfer(batch)),
        (error: unknown) => send({ type: 'rejected', id: request.id, ...describe(error) }),
      );
      return;
    case 'close':
      history.close().then(
        () => {
          send({ type: 'done', id: request.id });
          port.close();
        },
        (error: unknown) => send({ type: 'rejected', id: request.id, ...describe(error) }),
      );
      return;
  }
});
