import { randomBytes, randomUUID } from 'node:crypto';

export function newId(): string {
  return randomUUID();
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
