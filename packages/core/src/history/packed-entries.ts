// History entries on their way to the store, as flat rows of plain values in
// the order of the store's INSERT: copying an array of strings and numbers to
// another thread costs a fraction of copying as many small objects, each with
// its property names, and the history thread binds the values as they are,
// making no object per message. Names that repeat from message to message
// (account, peer, sender, kind, direction) cross once per batch, as numbers
// into a table. Only what the store keeps is packed.
import type { Message } from '../conversations/message.js';
import type { HistoryEntry } from './history-store.js';
import { bitsToFlags, flagsToBits } from './sqlite-history.js';

/** Values per row: id, protocol id, account, peer, kind, direction, sender, sender alias, time, text, html, flag bits. */
export const PACKED_WIDTH = 12;

/** A batch for the history thread: rows whose name columns are indexes into `names`. */
export interface PackedBatch {
  rows: unknown[];
  names: string[];
}

/** Columns of a row that hold a name (an index into the batch's names until resolved). */
const NAME_COLUMNS = [2, 3, 4, 5, 6] as const;

/** Appends an entry as one row of insert values (names as they are). */
export function entryToRow(e: HistoryEntry, into: unknown[]): void {
  into.push(e.id, e.protocolId ?? null, e.accountId, e.peer, e.conversationKind, e.direction, e.sender, e.senderAlias ?? null, Math.trunc(e.timestamp), e.text, e.formatted?.html ?? null, flagsToBits(e.flags));
}

/**
 * Collects entries into a batch, each repeated name kept once. The rows go into one array made
 * once at full size and written in place: growing an array push by push copies it over and over,
 * which was most of the garbage the message path made. A full batch is that array itself, so it
 * must be posted (copied) or used before the next `add`; a partial one is copied out at its size.
 */
export class EntryPacker {
  private readonly rows: unknown[];
  private used = 0;
  private names: string[] = [];
  private nameIndex = new Map<string, number>();

  /** @param capacity entries a batch holds at most */
  constructor(readonly capacity = 1000) {
    // Filled, not sized with `new Array(n)`: an array with holes is copied to another thread value by value with its index.
    this.rows = Array.from({ length: capacity * PACKED_WIDTH }, () => null);
  }

  /** Values packed so far (PACKED_WIDTH per entry). */
  get size(): number {
    return this.used;
  }

  /** No room for another entry: take the batch. */
  get full(): boolean {
    return this.used === this.rows.length;
  }

  add(e: HistoryEntry): void {
    this.addMessage(e, e.peer, e.conversationKind);
  }

  /** Adds a message of the conversation with this peer or room, as `add` would its history entry, without making one. */
  addMessage(e: Message, peer: string, conversationKind: HistoryEntry['conversationKind']): void {
    if (this.full) throw new RangeError('the batch is full: take it first');
    const rows = this.rows;
    const i = this.used;
    rows[i] = e.id;
    rows[i + 1] = e.protocolId ?? null;
    rows[i + 2] = this.name(e.accountId);
    rows[i + 3] = this.name(peer);
    rows[i + 4] = this.name(conversationKind);
    rows[i + 5] = this.name(e.direction);
    rows[i + 6] = this.name(e.sender);
    rows[i + 7] = e.senderAlias ?? null;
    rows[i + 8] = Math.trunc(e.timestamp);
    rows[i + 9] = e.text;
    rows[i + 10] = e.formatted?.html ?? null;
    rows[i + 11] = flagsToBits(e.flags);
    this.used = i + PACKED_WIDTH;
  }

  private name(value: string): number {
    let index = this.nameIndex.get(value);
    if (index === undefined) {
      index = this.names.length;
      this.names.push(value);
      this.nameIndex.set(value, index);
    }
    return index;
  }

  /** The batch so far; the packer starts a new one. A full batch shares the packer's array: use it before the next `add`. */
  take(): PackedBatch {
    const batch = { rows: this.full ? this.rows : this.rows.slice(0, this.used), names: this.names };
    this.used = 0;
    this.names = [];
    this.nameIndex.clear();
    return batch;
  }
}

/** Puts the names back into a batch's rows (in place) and returns the rows, ready to insert. */
export function resolveNames(batch: PackedBatch): unknown[] {
  const { rows, names } = batch;
  for (let i = 0; i + PACKED_WIDTH <= rows.length; i += PACKED_WIDTH) {
    for (const column of NAME_COLUMNS) rows[i + column] = names[rows[i + column] as number];
  }
  return rows;
}

/** Entries from rows of insert values (names resolved). */
export function rowsToEntries(rows: readonly unknown[], each: (entry: HistoryEntry) => void): void {
  for (let i = 0; i + PACKED_WIDTH <= rows.length; i += PACKED_WIDTH) {
    const entry: HistoryEntry = {
      id: rows[i] as string,
      conversationId: '',
      accountId: rows[i + 2] as string,
      peer: rows[i + 3] as string,
      conversationKind: rows[i + 4] as HistoryEntry['conversationKind'],
      direction: rows[i + 5] as HistoryEntry['direction'],
      sender: rows[i + 6] as string,
      timestamp: rows[i + 8] as number,
      text: rows[i + 9] as string,
      flags: bitsToFlags(rows[i + 11] as number),
    };
    if (rows[i + 1] !== null) entry.protocolId = rows[i + 1] as string;
    if (rows[i + 7] !== null) entry.senderAlias = rows[i + 7] as string;
    if (rows[i + 10] !== null) entry.formatted = { html: rows[i + 10] as string };
    each(entry);
  }
}
