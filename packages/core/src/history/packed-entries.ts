// History entries on their way to the history thread, packed as one flat
// array of plain values: copying an array of strings and numbers to another
// thread costs a fraction of copying as many small objects, each with its
// property names. Only what the store keeps is packed.
import type { HistoryEntry } from './history-store.js';
import { bitsToFlags, flagsToBits } from './sqlite-history.js';

/** Values per packed entry. */
export const PACKED_WIDTH = 12;

export function packEntry(e: HistoryEntry, into: unknown[]): void {
  into.push(e.id, e.protocolId, e.accountId, e.peer, e.conversationKind, e.direction, e.sender, e.senderAlias, e.timestamp, e.text, e.formatted?.html, flagsToBits(e.flags));
}

export function unpackEntries(packed: readonly unknown[], each: (entry: HistoryEntry) => void): void {
  for (let i = 0; i + PACKED_WIDTH <= packed.length; i += PACKED_WIDTH) {
    const entry: HistoryEntry = {
      id: packed[i] as string,
      conversationId: '',
      accountId: packed[i + 2] as string,
      peer: packed[i + 3] as string,
      conversationKind: packed[i + 4] as HistoryEntry['conversationKind'],
      direction: packed[i + 5] as HistoryEntry['direction'],
      sender: packed[i + 6] as string,
      timestamp: packed[i + 8] as number,
      text: packed[i + 9] as string,
      flags: bitsToFlags(packed[i + 11] as number),
    };
    if (packed[i + 1] !== undefined) entry.protocolId = packed[i + 1] as string;
    if (packed[i + 7] !== undefined) entry.senderAlias = packed[i + 7] as string;
    if (packed[i + 10] !== undefined) entry.formatted = { html: packed[i + 10] as string };
    each(entry);
  }
}
