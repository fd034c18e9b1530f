import { createReadStream } from 'node:fs';
import type { Duplex } from 'node:stream';
import { dccFailure } from './errors.js';

export interface SendOptions {
  /** The DCC data connection, connected (accepted from our listener, or opened to a passive receiver). */
  socket: Duplex;
  /** The file to send. */
  path: string;
  /** Where to start (the position a DCC RESUME asked for). */
  offset: number;
  size: number;
  onProgress?(bytes: number): void;
  /** A receiver that acknowledges nothing for this long has stopped. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_IDLE_MS = 120_000;

/**
 * Sends a file over a DCC connection: streamed from `offset` with the
 * socket's backpressure, then waits for the receiver's acknowledgement of
 * the last byte (32-bit big-endian positions, modulo 2^32) and closes.
 * A receiver that closes after every byte was written without the last
 * acknowledgement still counts as done (some clients do); one that closes
 * earlier fails with `transfer-incomplete`.
 */
export function sendFile(options: SendOptions): Promise<void> {
  const { socket, size } = options;
  const finalAck = size % 2 ** 32;
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  let sent = options.offset;
  let allWritten = false;
  let pendingAck = Buffer.alloc(0);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const file = createReadStream(options.path, { start: options.offset, highWaterMark: 64 * 1024 });
    const cleanup = () => {
      settled = true;
      clearTimeout(idle);
      file.destroy();
      socket.off('data', onAck);
      socket.off('close', onClose);
      socket.off('drain', onDrain);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const succeed = () => {
      if (settled) return;
      cleanup();
      socket.end();
      resolve();
    };
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(dccFailure('transfer-incomplete', `The receiver stopped acknowledging after ${sent} of ${size} bytes`)), idleMs);
      idle.unref();
    };
    const onAck = (chunk: Buffer) => {
      armIdle();
      pendingAck = Buffer.concat([pendingAck, chunk]);
      let last: number | undefined;
      while (pendingAck.length >= 4) {
        last = pendingAck.readUInt32BE(0);
        pendingAck = pendingAck.subarray(4);
      }
      if (allWritten && last === finalAck) succeed();
    };
    const onDrain = () => file.resume();
    const onClose = () => {
      if (allWritten) succeed();
      else fail(dccFailure('transfer-incomplete', `The receiver closed the connection after ${sent} of ${size} bytes`));
    };
    const onAbort = () => fail(dccFailure('transfer-interrupted', 'The transfer was stopped'));
    file.on('data', (chunk: string | Buffer) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // The file grew since it was offered: what was announced is all that is sent.
      const room = size - sent;
      const part = data.length > room ? data.subarray(0, room) : data;
      sent += part.length;
      options.onProgress?.(sent);
      if (!socket.write(part)) file.pause();
      if (sent >= size) file.destroy();
    });
    file.on('close', () => {
      if (settled) return;
      if (sent < size) {
        fail(dccFailure('transfer-failed', `The file shrank while it was being sent (${sent} of ${size} bytes)`));
        return;
      }
      allWritten = true;
      armIdle();
    });
    file.on('error', (error) => fail(dccFailure('transfer-failed', `Cannot read the file to send: ${error.message}`, error)));
    socket.on('error', () => undefined);
    socket.on('data', onAck);
    socket.on('drain', onDrain);
    socket.on('close', onClose);
    if (options.signal?.aborted === true) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    armIdle();
  });
}
