import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sameName, type Client, type Lab } from '../lab.js';
import { nextEvent } from '../wait.js';
import { onlinePair } from './pair.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** `from` sends a file of `size` random bytes to `to`, which accepts it through the API; the bytes must arrive unchanged. */
async function sendAndCompare(lab: Lab, from: Client, to: Client, size: number): Promise<void> {
  const bytes = randomBytes(size);
  const path = join(from.home, `conformance-${size}.bin`);
  writeFileSync(path, bytes);
  const offered = nextEvent(to.parley.events, 'transferAdded', (t) => t.direction === 'incoming' && sameName(t.peer, from.address), `${to.address} to receive the offer`, lab.timeout);
  const sent = await from.parley.transfers.send(from.accountId, to.address, path);
  const [offer] = await offered;
  expect(offer.state).toBe('offered');
  await to.parley.transfers.accept(offer.id);
  const received = await to.parley.transfers.settled(offer.id);
  expect(received.error).toBeUndefined();
  expect(received.state).toBe('done');
  expect(sha256(readFileSync(received.path!))).toBe(sha256(bytes));
  const outgoing = await from.parley.transfers.settled(sent.id);
  expect(outgoing.state).toBe('done');
}

export function fileTransferChecks(lab: Lab): void {
  describe('file transfer (declared: capabilities.fileTransfer send and receive)', () => {
    it('a file sent each way arrives with the same SHA-256', async () => {
      const [a, b] = await onlinePair(lab);
      await sendAndCompare(lab, a, b, 256 * 1024 + 7);
      await sendAndCompare(lab, b, a, 1024);
    });
  });
}
