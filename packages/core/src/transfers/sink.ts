import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { TransferError } from './errors.js';
import type { FileTarget } from './types.js';

/** A stream into an accepted file's temporary path; `bytes` counts what is in the file, the offset included. */
export interface TransferSink extends Writable {
  /** Bytes in the file so far, counting the resume offset: what to report as progress. */
  readonly bytes: number;
}

function asWriteError(error: Error): TransferError {
  return error instanceof TransferError ? error : new TransferError('transfer-write-failed', `Cannot write the received file: ${error.message}`, { cause: error });
}

/**
 * Where a plugin writes a received file: a Writable onto `target.path` from
 * `target.offset` that refuses to go past `target.maxBytes` (it fails with a
 * `transfer-oversize` TransferError and writes nothing of the chunk that
 * would cross it). Pipe the protocol's data stream into it, or write chunks
 * and honour backpressure; `onProgress` sees the running total. Usable in a
 * worker thread: it touches only the file it is given.
 */
export function openTransferSink(target: FileTarget, onProgress?: (bytes: number) => void): TransferSink {
  let handle: FileHandle | undefined;
  let bytes = target.offset;
  const write = async (chunk: Buffer): Promise<void> => {
    if (bytes + chunk.length > target.maxBytes) {
      throw new TransferError('transfer-oversize', `The peer sent more than the ${target.maxBytes} bytes it announced`);
    }
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await handle!.write(chunk, done, chunk.length - done, bytes + done);
      done += bytesWritten;
    }
    bytes += chunk.length;
    onProgress?.(bytes);
  };
  const sink = new Writable({
    // Network chunks are 16–64 KiB: a few of them per disk write.
    highWaterMark: 256 * 1024,
    construct(callback) {
      // The core created the file; opening it for writing without truncating keeps a resumed part.
      open(target.path, 'r+').then(
        (opened) => {
          handle = opened;
          callback();
        },
        (error: Error) => callback(new TransferError('transfer-write-failed', `Cannot open the file to receive into: ${error.message}`, { cause: error })),
      );
    },
    write(chunk: Buffer, _encoding, callback) {
      write(chunk).then(() => callback(), (error: Error) => callback(asWriteError(error)));
    },
    // Chunks that queued up while a write was on disk go down in one write.
    writev(chunks, callback) {
      write(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => callback(), (error: Error) => callback(asWriteError(error)));
    },
    final(callback) {
      const h = handle;
      handle = undefined;
      (h === undefined ? Promise.resolve() : h.close()).then(() => callback(), (error: Error) => callback(error));
    },
    destroy(error, callback) {
      const h = handle;
      handle = undefined;
      (h === undefined ? Promise.resolve() : h.close()).then(() => callback(error), () => callback(error));
    },
  });
  Object.defineProperty(sink, 'bytes', { get: () => bytes, enumerable: true });
  return sink as TransferSink;
}
