import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/core';
import { receiveFile } from './receive.js';
import { sendFile } from './send.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-dcc-'));
  dirs.push(dir);
  return dir;
}

/** Two ends of one loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect({ host: '127.0.0.1', port });
  const other = await accepted;
  server.close();
  return [client, other];
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('DCC data streams (32-bit acknowledgements)', () => {
  it('moves a file byte for byte, with the receiver acknowledging positions', async () => {
    const dir = folder();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(join(dir, 'source'), data);
    writeFileSync(join(dir, 'target'), '');
    const [a, b] = await socketPair();
    const progress: number[] = [];
    const [, received] = await Promise.all([
      sendFile({ socket: a, path: join(dir, 'source'), offset: 0, size: data.length }),
      receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: data.length, onProgress: (n) => progress.push(n) }),
    ]);
    expect(received).toBe(data.length);
    expect(sha(readFileSync(join(dir, 'target')))).toBe(sha(data));
    expect(progress.at(-1)).toBe(data.length);
  });

  it('resumes from an offset: only the rest is sent and the file ends whole', async () => {
    const dir = folder();
    const data = randomBytes(500_000);
    writeFileSync(join(dir, 'source'), data);
    writeFileSync(join(dir, 'target'), data.subarray(0, 123_456));
    const [a, b] = await socketPair();
    await Promise.all([
      sendFile({ socket: a, path: join(dir, 'source'), offset: 123_456, size: data.length }),
      receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+', start: 123_456 }), offset: 123_456, size: data.length }),
    ]);
    expect(sha(readFileSync(join(dir, 'target')))).toBe(sha(data));
  });

  it('stops a sender that sends more than it announced (transfer-oversize)', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'target'), '');
    const [a, b] = await socketPair();
    const receiving = receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: 1000 });
    a.write(randomBytes(1500));
    a.on('error', () => undefined);
    const error = await receiving.catch((e: unknown) => e);
    expect(isParleyError(error, 'transfer-oversize')).toBe(true);
  });

  it('notices extra bytes that come after the announced size, before the sender closes', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'target'), '');
    const [a, b] = await socketPair();
    a.on('error', () => undefined);
    const receiving = receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: 1000 });
    a.write(randomBytes(1000));
    // The last acknowledgement arrives: then the hostile sender sends on instead of closing.
    await new Promise<void>((resolve) => a.on('data', (ack: Buffer) => ack.length >= 4 && ack.readUInt32BE(ack.length - 4) === 1000 && resolve()));
    a.write(randomBytes(10));
    expect(isParleyError(await receiving.catch((e: unknown) => e), 'transfer-oversize')).toBe(true);
  });

  it('fails when the sender closes before the end (transfer-incomplete), and the sender learns the same', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'target'), '');
    const [a, b] = await socketPair();
    const receiving = receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: 1000 });
    a.end(randomBytes(400));
    expect(isParleyError(await receiving.catch((e: unknown) => e), 'transfer-incomplete')).toBe(true);

    const data = randomBytes(4 * 1024 * 1024);
    writeFileSync(join(dir, 'source'), data);
    const [c, d] = await socketPair();
    const sending = sendFile({ socket: c, path: join(dir, 'source'), offset: 0, size: data.length });
    d.once('data', () => d.destroy());
    expect(isParleyError(await sending.catch((e: unknown) => e), 'transfer-incomplete')).toBe(true);
  });

  it('writes what arrived before a broken-off transfer fails, so the part can resume', async () => {
    // A disk slower than the network: the sender's close comes while its bytes are still being written.
    const stored: Buffer[] = [];
    const slowDisk = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        setTimeout(() => {
          stored.push(chunk);
          callback();
        }, 50);
      },
    });
    const [a, b] = await socketPair();
    const sent = randomBytes(400);
    const receiving = receiveFile({ socket: b, sink: slowDisk, offset: 0, size: 1000 });
    a.end(sent);
    expect(isParleyError(await receiving.catch((e: unknown) => e), 'transfer-incomplete')).toBe(true);
    expect(Buffer.concat(stored).equals(sent)).toBe(true);
    expect(slowDisk.writableFinished).toBe(true);
  });

  it('fails a stalled sender after the idle time, and stops on the signal', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'target'), '');
    const [a, b] = await socketPair();
    a.write(randomBytes(10));
    const stalled = receiveFile({ socket: b, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: 1000, idleTimeoutMs: 200 });
    expect(isParleyError(await stalled.catch((e: unknown) => e), 'transfer-incomplete')).toBe(true);
    a.destroy();

    const [c, d] = await socketPair();
    const controller = new AbortController();
    const stopped = receiveFile({ socket: d, sink: createWriteStream(join(dir, 'target'), { flags: 'r+' }), offset: 0, size: 1000, signal: controller.signal });
    controller.abort();
    expect(isParleyError(await stopped.catch((e: unknown) => e), 'transfer-interrupted')).toBe(true);
    c.destroy();
  });
});
