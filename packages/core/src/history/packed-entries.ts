// History entries on their way to the store, packed for a cheap crossing to
// the history thread: every string of a batch (ids, texts…) joined into one
// string, and the rest (each string's length, each name's index, the flag
// bits, the time) in two typed arrays that are handed over, not copied.
// Copying one string and two buffers to another thread costs a fraction of
// copying thousands of values one by one, and the thread keeps three objects
// per batch in its heap while the batch waits for its turn instead of
// thousands (which its garbage collector would copy over and over). Names
// that repeat from message to message (account, peer, sender, kind,
// direction) cross once per batch. Only what the store keeps is packed.
import type { Message } from '../conversations/message.js';
import type { HistoryEntry } from './history-store.js';
import { bitsToFlags, flagsToBits } from './sqlite-history.js';

/** A batch for the history store: `count` entries, read back by `readBatch`. */
export interface PackedBatch {
  count: number;
  /** The entries' strings one after another: id, protocol id, sender alias, text, html (those present). */
  strings: string;
  /** INTS per entry: the length of each of those strings (-1 when absent), the index of each name in `names`, the flag bits. */
  ints: Int32Array;
  /** The time of each entry. */
  times: Float64Array;
  names: string[];
}

/** Something taking the values a row of the store's INSERT takes, in its order (see SqliteHistory). */
export type RowOf<R> = (
  id: string,
  protocolId: string | null,
  accountId: string,
  peer: string,
  kind: string,
  direction: string,
  sender: string,
  senderAlias: string | null,
  ts: number,
  text: string,
  html: string | null,
  flags: number,
) => R;

/** Where the rows of a batch or a search's answer go, one call each. */
export type RowSink = RowOf<void>;

// An entry's ints: five string lengths, five name indexes, the flag bits.
const ID = 0;
const PROTOCOL_ID = 1;
const SENDER_ALIAS = 2;
const TEXT = 3;
const HTML = 4;
const ACCOUNT = 5;
const PEER = 6;
const KIND = 7;
const DIRECTION = 8;
const SENDER = 9;
const FLAGS = 10;
const INTS = 11;
const STRINGS = 5;
const ABSENT = -1;

/** The buffers to hand over (transfer) with a batch posted to another thread. */
export function batchTransfer(batch: PackedBatch): ArrayBuffer[] {
  return [batch.ints.buffer as ArrayBuffer, batch.times.buffer as ArrayBuffer];
}

/**
 * Collects entries into a batch of at most `capacity`. Its arrays are made once at full size and
 * written in place (growing an array push by push copies it over and over); `take` copies out what
 * was added, so the batch it returns is the caller's to hand over.
 */
export class EntryPacker {
  private readonly pieces: string[];
  private piecesUsed = 0;
  private readonly ints: Int32Array;
  private readonly times: Float64Array;
  private count = 0;
  private names: string[] = [];
  private nameIndex = new Map<string, number>();

  /** @param capacity entries a batch holds at most */
  constructor(readonly capacity = 1000) {
    // Filled, not sized with `new Array(n)`: an array with holes is slower to write and to join.
    this.pieces = Array.from({ length: capacity * STRINGS }, () => '');
    this.ints = new Int32Array(capacity * INTS);
    this.times = new Float64Array(capacity);
  }

  /** Entries packed so far. */
  get size(): number {
    return this.count;
  }

  /** No room for another entry: take the batch. */
  get full(): boolean {
    return this.count === this.capacity;
  }

  add(e: HistoryEntry): void {
    this.addMessage(e, e.peer, e.conversationKind);
  }

  /** Adds a message of the conversation with this peer or room, as `add` would its history entry, without making one. */
  addMessage(e: Message, peer: string, conversationKind: HistoryEntry['conversationKind']): void {
    if (this.full) throw new RangeError('the batch is full: take it first');
    const ints = this.ints;
    const i = this.count * INTS;
    ints[i + ID] = this.piece(e.id);
    ints[i + PROTOCOL_ID] = this.optionalPiece(e.protocolId);
    ints[i + SENDER_ALIAS] = this.optionalPiece(e.senderAlias);
    ints[i + TEXT] = this.piece(e.text);
    ints[i + HTML] = this.optionalPiece(e.formatted?.html);
    ints[i + ACCOUNT] = this.name(e.accountId);
    ints[i + PEER] = this.name(peer);
    ints[i + KIND] = this.name(conversationKind);
    ints[i + DIRECTION] = this.name(e.direction);
    ints[i + SENDER] = this.name(e.sender);
    ints[i + FLAGS] = flagsToBits(e.flags);
    this.times[this.count] = Math.trunc(e.timestamp);
    this.count++;
  }

  /**
   * Adds a stored row (a RowSink: the values of the store's INSERT, flags as bits), as the history
   * thread packs a search's answer for the crossing back.
   */
  readonly addRow: RowSink = (id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags) => {
    if (this.full) throw new RangeError('the batch is full: take it first');
    const ints = this.ints;
    const i = this.count * INTS;
    ints[i + ID] = this.piece(id);
    ints[i + PROTOCOL_ID] = this.nullablePiece(protocolId);
    ints[i + SENDER_ALIAS] = this.nullablePiece(senderAlias);
    ints[i + TEXT] = this.piece(text);
    ints[i + HTML] = this.nullablePiece(html);
    ints[i + ACCOUNT] = this.name(accountId);
    ints[i + PEER] = this.name(peer);
    ints[i + KIND] = this.name(kind);
    ints[i + DIRECTION] = this.name(direction);
    ints[i + SENDER] = this.name(sender);
    ints[i + FLAGS] = flags;
    this.times[this.count] = ts;
    this.count++;
  };

  private piece(value: string): number {
    this.pieces[this.piecesUsed++] = value;
    return value.length;
  }

  private optionalPiece(value: string | undefined): number {
    return value === undefined ? ABSENT : this.piece(value);
  }

  private nullablePiece(value: string | null): number {
    return value === null ? ABSENT : this.piece(value);
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

  /** The batch so far, copied out; the packer starts a new one. */
  take(): PackedBatch {
    const pieces = this.pieces;
    const used = this.piecesUsed;
    const strings = used === pieces.length ? pieces.join('') : pieces.slice(0, used).join('');
    // Let go of the texts: the packer lives as long as the history, they need not.
    for (let i = 0; i < used; i++) pieces[i] = '';
    const batch: PackedBatch = { count: this.count, strings, ints: this.ints.slice(0, this.count * INTS), times: this.times.slice(0, this.count), names: this.names };
    this.count = 0;
    this.piecesUsed = 0;
    this.names = [];
    this.nameIndex.clear();
    return batch;
  }
}

/**
 * Calls `row` with the insert values of each entry of the batch, in order. One loop with no
 * function made per call, and `row` best the same function every time: the history thread runs
 * this for every message, and a new closure per call makes V8 compile it again and again.
 */
export function readBatch(batch: PackedBatch, row: RowSink): void {
  const { count, strings, ints, times, names } = batch;
  // Each string is a slice of the batch's one string: no copy of its characters.
  let at = 0;
  let length: number;
  for (let e = 0, i = 0; e < count; e++, i += INTS) {
    length = ints[i + ID]!;
    const id = strings.slice(at, (at += length));
    length = ints[i + PROTOCOL_ID]!;
    const protocolId = length === ABSENT ? null : strings.slice(at, (at += length));
    length = ints[i + SENDER_ALIAS]!;
    const senderAlias = length === ABSENT ? null : strings.slice(at, (at += length));
    length = ints[i + TEXT]!;
    const text = strings.slice(at, (at += length));
    length = ints[i + HTML]!;
    const html = length === ABSENT ? null : strings.slice(at, (at += length));
    row(id, protocolId, names[ints[i + ACCOUNT]!]!, names[ints[i + PEER]!]!, names[ints[i + KIND]!]!, names[ints[i + DIRECTION]!]!, names[ints[i + SENDER]!]!, senderAlias, times[e]!, text, html, ints[i + FLAGS]!);
  }
}

/** The entries of a batch, as the store would give them back. */
export function batchToEntries(batch: PackedBatch, each: (entry: HistoryEntry) => void): void {
  readBatch(batch, (id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags) =>
    each(rowToEntry(id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags)),
  );
}

/** A stored row (the values of the store's INSERT, in its order) as the history entry it was made from. */
export const rowToEntry: RowOf<HistoryEntry> = (id, protocolId, accountId, peer, kind, direction, sender, senderAlias, ts, text, html, flags) => {
  const entry: HistoryEntry = {
    id,
    conversationId: '',
    accountId,
    peer,
    conversationKind: kind as HistoryEntry['conversationKind'],
    direction: direction as HistoryEntry['direction'],
    sender,
    timestamp: ts,
    text,
    flags: bitsToFlags(flags),
  };
  if (protocolId !== null) entry.protocolId = protocolId;
  if (senderAlias !== null) entry.senderAlias = senderAlias;
  if (html !== null) entry.formatted = { html };
  return entry;
};
