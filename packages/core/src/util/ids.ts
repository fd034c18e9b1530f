import { randomBytes, randomFillSync } from 'node:crypto';

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Random bytes for many ids at a time, as `randomUUID` keeps them too. */
const pool = Buffer.alloc(16 * 256);
let poolUsed = pool.length;
/** Where an id's text is written, dashes in place, before it is read out as one string. */
const text = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1');
/** Where the text of each of the 16 bytes goes (the dashes skipped). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * A random UUID (RFC 4122 version 4) as one flat string. Node's `randomUUID()`
 * builds its text by concatenation, which V8 keeps as a chain of about twenty
 * pieces for as long as the id lives: a buddy list of thousands of contacts
 * held half a kilobyte per id. Written as bytes and read out once, the text is
 * one 36-byte string, made with nothing else to collect (a buddy list of
 * thousands makes one per contact as the roster arrives).
 */
export function newId(): string {
  if (poolUsed === pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const o = poolUsed;
  poolUsed += 16;
  for (let i = 0; i < 16; i++) {
    let byte = pool[o + i]!;
    // Version 4 in the high nibble of byte 6, the variant (binary 10) in the top bits of byte 8.
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    const at = AT[i]!;
    text[at] = HEX_DIGITS[byte >> 4]!;
    text[at + 1] = HEX_DIGITS[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
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
