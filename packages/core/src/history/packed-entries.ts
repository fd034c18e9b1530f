// History entries on their way to the store, as flat rows of plain values in
// the order of the store's INSERT: copying an array of strings and numbers to
// another thread costs a fraction of copying as many small objects, each with
// its property names, and the history thread binds the values as they are,
// making no object per message. Names that repeat from message to message
// (account, peer, sender, kind, direction) cross once per batch, as numbers
// into a table. Only what the store keeps is packed.
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

/** Collects entries into a batch, each repeated name kept once. */
export class EntryPacker {
  private rows: unknown[] = [];
  private names: string[] = [];
  private nameIndex = new Map<string, number>();

  /** Values packed so far (PACKED_WIDTH per entry). */
  get size(): number {
    return this.rows.length;
  }

  add(e: HistoryEntry): void {
    this.rows.push(
      e.id,
      e.protocolId ?? null,
      this.name(e.accountId),
      this.name(e.peer),
      this.name(e.conversationKind),
      this.name(e.direction),
      this.name(e.sender),
      e.senderAlias ?? null,
      Math.trunc(e.timestamp),
      e.text,
      e.formatted?.html ?? null,
      flagsToBits(e.flags),
    );
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

  /** The batch so far; the packer starts a new one. */
  take(): PackedBatch {
    const batch = { rows: this.rows, names: this.names };
    this.rows = [];
    this.names = [];
    this.nameIndex = new Map();
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
