import { randomBytes, randomUUID } from 'node:crypto';

/**
 * A random UUID (v4) as one flat string. Node builds `randomUUID()`'s text by
 * concatenating its pieces, and V8 keeps such a string as a chain of about
 * twenty pieces until something flattens it: a buddy list of thousands of
 * contacts then held half a kilobyte per id. Decoding it once from bytes
 * gives the same text in 36 bytes.
 */
export function newId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/**
 * This process's part of every message id: 96 random bits (16 characters), so
 * ids made by different processes or runs sharing a history never collide.
 */
const MESSAGE_ID_PREFIX = randomBytes(12).toString('base64url');
let messagesMade = 0;

/**
 * A message id: as unique as a UUID in practice, but half as long and made
 * without randomness per message. Every message is stored in the history, and
 * there a narrower row is measurably cheaper to write and index.
 */
export function newMessageId(): string {
  return MESSAGE_ID_PREFIX + (messagesMade++).toString(36);
}
