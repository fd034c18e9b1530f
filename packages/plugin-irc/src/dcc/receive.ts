import { finished, type Duplex, type Writable } from 'node:stream';
import { isParleyError } from '@parley/core';
import { dccFailure } from './errors.js';

export interface ReceiveOptions {
  /** The DCC data connection, connected. */
  socket: Duplex;
  /** Where the bytes go, positioned at `offset` (the core's transfer sink). */
  sink: Writable;
  /** Bytes already in the file (a resumed transfer). */
  offset: number;
  /** The size the sender announced: the whole file, `offset` included. */
  size: number;
  onProgress?(bytes: number): void;
  /** A sender silent this long has stopped. */
  idleTimeoutMs?: number;
  /**
   * After the last byte, how long to wait for the sender to close before the
   * file counts as complete; bytes it sends meanwhile are more than it announced.
   */
  closeWaitMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_IDLE_MS = 120_000;
const DEFAULT_CLOSE_WAIT_MS = 10_000;

/**
 * Receives a DCC SEND's bytes (the CTCP draft's DCC section): each chunk is
 * written, then acknowledged with the file position so far as a 32-bit
 * big-endian number (modulo 2^32 for files past 4 GiB). Resolves with the
 * bytes in the file once all `size` are written and the sender has closed;
 * rejects with `transfer-oversize` when it sends more than announced,
 * `transfer-incomplete` when it closes or stalls before the end,
 * `transfer-write-failed` when the file cannot be written. The socket is
 * destroyed on failure. When the transfer broke off (closed, stalled or
 * stopped) the bytes that arrived are written before it rejects, so the core
 * can keep them for a resume; the caller decides what stays on disk.
 */
export function receiveFile(options: ReceiveOptions): Promise<number> {
  const { socket, sink, offset, size } = options;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  let position = offset;
  let written = offset;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    let closeWait: NodeJS.Timeout | undefined;
    const cleanup = () => {
      settled = true;
      clearTimeout(idle);
      clearTimeout(closeWait);
      socket.off('data', onData);
      socket.off('close', onClose);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      cleanup();
      socket.destroy();
      sink.destroy();
      reject(error);
    };
    // The bytes received so far are good: they reach the file before the failure is told.
    const breakOff = (error: Error) => {
      if (settled) return;
      cleanup();
      socket.destroy();
      finished(sink, () => reject(error));
      if (!sink.writableEnded) sink.end();
    };
    const succeed = () => {
      if (settled) return;
      cleanup();
      socket.destroy();
      resolve(written);
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => breakOff(dccFailure('transfer-incomplete', `The sender stopped sending after ${position} of ${size} bytes`)), idleMs);
      idle.unref();
    };
    const ack = (value: number) => {
      const frame = Buffer.alloc(4);
      frame.writeUInt32BE(value % 2 ** 32);
      if (!socket.destroyed) socket.write(frame);
    };
    let sinkEnded = false;
    let peerClosed = false;
    const finish = () => {
      // Every byte is written; the sender closes once it reads the last acknowledgement.
      clearTimeout(idle);
      sink.end(() => {
        sinkEnded = true;
        if (settled) return;
        if (peerClosed) {
          succeed();
          return;
        }
        closeWait = setTimeout(succeed, options.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS);
        closeWait.unref();
      });
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      if (position + chunk.length > size) {
        fail(dccFailure('transfer-oversize', `The sender sent more than the ${size} bytes it announced`));
        return;
      }
      position += chunk.length;
      armIdle();
      const end = position;
      const more = sink.write(chunk, (error) => {
        if (error !== null && error !== undefined) return;
        written = end;
        options.onProgress?.(end);
        ack(end);
        if (end === size) finish();
      });
      if (!more) {
        socket.pause();
        sink.once('drain', () => socket.resume());
      }
    };
    const onClose = () => {
      // Every byte arrived and the sender closed (some close without waiting for the last
      // acknowledgement): done once the sink has written them.
      if (position === size) {
        peerClosed = true;
        if (sinkEnded) succeed();
        return;
      }
      breakOff(dccFailure('transfer-incomplete', `The connection closed after ${position} of ${size} bytes`));
    };
    const onAbort = () => breakOff(dccFailure('transfer-interrupted', 'The transfer was stopped'));
    sink.once('error', (error: Error) => fail(isParleyError(error) ? error : dccFailure('transfer-write-failed', `Cannot write the received file: ${error.message}`, error)));
    socket.on('error', () => undefined);
    socket.on('data', onData);
    socket.on('close', onClose);
    if (options.signal?.aborted === true) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (offset === size) {
      // Nothing is left to receive (a resume at the end): acknowledge so the sender closes.
      ack(size);
      finish();
    } else armIdle();
  });
}
