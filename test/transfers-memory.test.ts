import { createHash } from 'node:crypto';
import { createReadStream, openSync, closeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { addLoopbackAccount, loopbackParley, startServer } from './helpers/loopback.js';
import { RecordingUi } from './helpers/recording-ui.js';
import { tempHome } from './helpers/temp.js';
import { waitForEvent } from './helpers/wait.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const MiB = 1024 * 1024;
/** 256 MiB by default; PARLEY_TRANSFER_TEST_MIB=1024 measures a 1 GiB transfer. */
const SIZE = Number(process.env.PARLEY_TRANSFER_TEST_MIB ?? 256) * MiB;

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

describe('file transfer memory', () => {
  it(`moves ${SIZE / MiB} MiB between two cores in this process with the memory flat`, async () => {
    const server = await startServer({ alice: 'alice-pw', bob: 'bob-pw' });
    cleanup.push(() => server.stop());
    const dir = tempHome('parley-big-');
    const a = await loopbackParley();
    cleanup.push(() => a.parley.shutdown());
    const b = await loopbackParley({ ui: new RecordingUi((_r, context) => (context.purpose === 'file-transfer' ? 'accept' : undefined)), transfers: { downloadDir: join(dir, 'in') } });
    cleanup.push(() => b.parley.shutdown());
    const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'alice-pw');
    const bob = await addLoopbackAccount(b.parley, server.port, 'bob', 'bob-pw');
    await a.parley.accounts.connect(alice.id);
    await b.parley.accounts.connect(bob.id);
    // A sparse file: its size costs no disk and no time to make.
    const source = join(dir, 'big.bin');
    const fd = openSync(source, 'w');
    ftruncateSync(fd, SIZE);
    closeSync(fd);

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const added = waitForEvent(b.parley.events, 'transferAdded');
    const started = Date.now();
    await a.parley.transfers.send(alice.id, 'bob', source);
    const [offer] = await added;
    const received = await b.parley.transfers.settled(offer.id);
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sample);
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(received.state).toBe('done');
    expect(received.bytes).toBe(SIZE);
    const growth = (peak - baseline) / MiB;
    console.log(`transfer of ${SIZE / MiB} MiB: ${seconds.toFixed(1)} s, ${(SIZE / MiB / seconds).toFixed(0)} MiB/s, RSS growth ${growth.toFixed(1)} MiB`);
    expect(growth).toBeLessThan(64);
    expect(await sha256Of(received.path!)).toBe(await sha256Of(source));
  }, 300_000);
});
