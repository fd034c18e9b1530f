import type { IncomingMessage } from '../conversations/message.js';
import type { Presence } from '../presence/presence.js';
import type { ContextNotice, FromWorker } from './worker-protocol.js';

/**
 * What a plugin's worker sends the core in one turn of its work, as one flat
 * list of records (one postMessage). Structured clone is cheap for strings
 * and numbers and dear for objects: each object costs its field names and a
 * slow rebuild on the core's thread; and each slot of the list costs a step
 * on both sides, so a record has no slot for a field nobody set. The calls a
 * plugin makes by the thousand cross without objects around them:
 *
 *     CONVERSATION id conn kind name                  (names a conversation once; see ConversationIds)
 *     MESSAGE  id sender text fields field…            (receiveMessage with a well-formed conversation, sender and text;
 *                                                       `fields` says which of the optional fields follow, in MESSAGE_FIELDS order)
 *     PRESENCE conn name status message label idleSince     (buddies.presence with an object)
 *     NOTICE   conn method argc arg…                         (any other context notice)
 *     OTHER    message                                       (anything else: results, requests, logs…)
 *
 * A message or presence that does not have the expected shape goes as a
 * NOTICE, so the core checks what the plugin gave as it does in process. The
 * fields read here are the ones the core reads (and it reads them when the
 * plugin calls, as in process); extra fields were never kept.
 */
export type WorkerTape = unknown[];

const MESSAGE = 0;
const PRESENCE = 1;
const NOTICE = 2;
const OTHER = 3;
const CONVERSATION = 4;
const MESSAGE_HEAD = 5;
const PRESENCE_LENGTH = 7;
const CONVERSATION_LENGTH = 5;

/** A message's optional fields, in the order they follow on the tape; bit i of `fields` says field i is there. */
const MESSAGE_FIELDS = ['senderAlias', 'formatted', 'timestamp', 'protocolId', 'flags', 'fromSelf'] as const;
const ALL_FIELDS = (1 << MESSAGE_FIELDS.length) - 1;

/** Beyond this many, a worker starts its conversation ids again (at the start of a tape, so no tape mixes old and new). */
const MAX_CONVERSATION_IDS = 4096;
/** What the core accepts as an id: a worker never needs more, whatever a plugin does in one turn. */
const ID_LIMIT = 1 << 24;

/**
 * The worker's side of the conversation ids: a message names its
 * conversation by a number, told the core once (a CONVERSATION record ahead
 * of the first message that uses it), instead of its kind and name each time
 * (a flood into one channel repeats the same two strings thousands of times,
 * each copied, rebuilt and hashed again on the core's side).
 */
export class ConversationIds {
  private readonly byConn = new Map<number, { im: Map<string, number>; chat: Map<string, number> }>();
  private next = 0;
  /** What each id names, to read a record back on this side (a record that cannot cross is sent another way). */
  readonly table = new ConversationTable();

  /** The id of a conversation, written to `tape` first if it is new. */
  id(tape: WorkerTape, conn: number, kind: 'im' | 'chat', name: string): number {
    let names = this.byConn.get(conn);
    if (names === undefined) {
      names = { im: new Map(), chat: new Map() };
      this.byConn.set(conn, names);
    }
    const ids = names[kind];
    let id = ids.get(name);
    if (id === undefined) {
      id = this.next++;
      ids.set(name, id);
      this.table.define(id, conn, kind, name);
      tape.push(CONVERSATION, id, conn, kind, name);
    }
    return id;
  }

  /** A new tape starts: past the limit, every id is forgotten and numbers start again (each is defined again before use). */
  startTape(): void {
    if (this.next < MAX_CONVERSATION_IDS) return;
    this.byConn.clear();
    this.next = 0;
  }

  /** The connection closed: its conversations need no ids. */
  forget(conn: number): void {
    this.byConn.delete(conn);
  }
}

/** The core's side: what each conversation id of one worker names. */
export class ConversationTable {
  private readonly defs = new Map<number, { conn: number; kind: 'im' | 'chat'; name: string }>();

  define(id: unknown, conn: unknown, kind: unknown, name: unknown): void {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= ID_LIMIT) throw new Error(`bad conversation id ${String(id)}`);
    if (typeof conn !== 'number' || (kind !== 'im' && kind !== 'chat') || typeof name !== 'string') throw new Error(`bad conversation ${String(id)}`);
    this.defs.set(id, { conn, kind, name });
  }

  get(id: unknown): { conn: number; kind: 'im' | 'chat'; name: string } {
    const def = this.defs.get(id as number);
    if (def === undefined) throw new Error(`unknown conversation id ${String(id)}`);
    return def;
  }
}

/**
 * Appends `call` of connection `conn` to `tape`, in the cheapest record that keeps it; `ids` names
 * the conversations of messages.
 */
export function writeNotice(tape: WorkerTape, ids: ConversationIds, conn: number, call: ContextNotice, copy: (value: unknown) => unknown): void {
  if (call.method === 'receiveMessage') {
    writeReceived(tape, ids, conn, call.args[0], copy);
    return;
  }
  if (call.method === 'buddies.presence') {
    const presence = call.args[1] as Partial<Presence> | null;
    if (typeof presence === 'object' && presence !== null) {
      tape.push(PRESENCE, conn, call.args[0], presence.status, presence.message, presence.label, presence.idleSince);
      return;
    }
  }
  tape.push(NOTICE, conn, call.method, call.args.length);
  for (const arg of call.args) tape.push(copy(arg));
}

/** Appends a receiveMessage call: a MESSAGE record when it has the expected shape, else a NOTICE. */
export function writeReceived(tape: WorkerTape, ids: ConversationIds, conn: number, message: IncomingMessage | null | undefined, copy: (value: unknown) => unknown): void {
  if (!writeMessage(tape, ids, conn, message)) {
    tape.push(NOTICE, conn, 'receiveMessage', 1, copy(message));
  }
}

function writeMessage(tape: WorkerTape, ids: ConversationIds, conn: number, message: IncomingMessage | null | undefined): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const c = message.conversation as { kind?: unknown; peer?: unknown; room?: unknown } | null | undefined;
  if (typeof c !== 'object' || c === null) return false;
  const name = c.kind === 'im' ? c.peer : c.kind === 'chat' ? c.room : undefined;
  const { sender, text } = message;
  if (typeof name !== 'string' || typeof sender !== 'string' || typeof text !== 'string') return false;
  const id = ids.id(tape, conn, c.kind as 'im' | 'chat', name);
  const at = tape.length;
  tape.push(MESSAGE, id, sender, text, 0);
  // Read once each, as the core reads them in process.
  const { senderAlias, formatted, timestamp, protocolId, flags, fromSelf } = message;
  let fields = 0;
  if (senderAlias !== undefined) (fields |= 1), tape.push(senderAlias);
  if (formatted !== undefined) (fields |= 2), tape.push(formatted);
  if (timestamp !== undefined) (fields |= 4), tape.push(timestamp);
  if (protocolId !== undefined) (fields |= 8), tape.push(protocolId);
  if (flags !== undefined) (fields |= 16), tape.push(flags);
  if (fromSelf !== undefined) (fields |= 32), tape.push(fromSelf);
  tape[at + 4] = fields;
  return true;
}

export function writeOther(tape: WorkerTape, message: FromWorker): void {
  tape.push(OTHER, message);
}

/** Where each record of the tape is read. */
export interface TapeReader {
  notice(conn: number, call: ContextNotice): void;
  /** A message (receiveMessage); without this, it is read as a notice. */
  message?(conn: number, message: IncomingMessage): void;
  other(message: FromWorker): void;
  /** A record could not be read or handled: the rest of the tape still is. */
  failed(error: unknown): void;
}

/**
 * Reads the records in order; `table` is the worker's conversation ids, kept from one tape to
 * the next. A record the reader throws on is reported and skipped.
 */
export function readTape(tape: WorkerTape, reader: TapeReader, table: ConversationTable = new ConversationTable()): void {
  let i = 0;
  while (i < tape.length) {
    const start = i;
    const tag = tape[i];
    i = start + recordLength(tape, start);
    try {
      if (tag === MESSAGE) {
        const def = table.get(tape[start + 1]);
        const message = readMessage(tape, start, def.kind, def.name);
        if (reader.message !== undefined) reader.message(def.conn, message);
        else reader.notice(def.conn, { method: 'receiveMessage', args: [message] });
      } else if (tag === CONVERSATION) table.define(tape[start + 1], tape[start + 2], tape[start + 3], tape[start + 4]);
      else if (tag === OTHER) reader.other(tape[start + 1] as FromWorker);
      else if (tag === PRESENCE) reader.notice(tape[start + 1] as number, { method: 'buddies.presence', args: [tape[start + 2] as string, readPresence(tape, start)] });
      else if (tag === NOTICE) reader.notice(tape[start + 1] as number, { method: tape[start + 2], args: tape.slice(start + 4, i) } as ContextNotice);
      else throw new Error(`unknown record ${String(tag)}`);
    } catch (error) {
      reader.failed(error);
    }
  }
}

function recordLength(tape: WorkerTape, at: number): number {
  switch (tape[at]) {
    case MESSAGE: {
      const fields = tape[at + 4];
      // Nothing after a record of unknown length can be trusted to line up.
      if (typeof fields !== 'number' || !Number.isInteger(fields) || fields < 0 || fields > ALL_FIELDS) return tape.length - at;
      let length = MESSAGE_HEAD;
      for (let f = fields; f !== 0; f >>= 1) length += f & 1;
      return length;
    }
    case CONVERSATION:
      return CONVERSATION_LENGTH;
    case PRESENCE:
      return PRESENCE_LENGTH;
    case NOTICE: {
      const argc = tape[at + 3];
      return 4 + (typeof argc === 'number' && argc >= 0 ? argc : 0);
    }
    case OTHER:
      return 2;
    default:
      return tape.length - at;
  }
}

/** The tape cut into one tape per record, to send them one by one when the whole cannot be copied. */
export function splitTape(tape: WorkerTape): WorkerTape[] {
  const records: WorkerTape[] = [];
  for (let i = 0; i < tape.length; ) {
    const length = recordLength(tape, i);
    records.push(tape.slice(i, i + length));
    i += length;
  }
  return records;
}

/**
 * The context call a record holds (undefined for an OTHER or CONVERSATION record), for one that
 * cannot be copied; `table` names the conversations (the worker's own, ConversationIds.table).
 */
export function noticeOf(record: WorkerTape, table: ConversationTable): { conn: number; call: ContextNotice } | undefined {
  let found: { conn: number; call: ContextNotice } | undefined;
  readTape(
    record,
    {
      notice: (conn, call) => {
        found = { conn, call };
      },
      other: () => {},
      failed: () => {},
    },
    table,
  );
  return found;
}

function readMessage(tape: WorkerTape, at: number, kind: 'im' | 'chat', name: string): IncomingMessage {
  const message: IncomingMessage = {
    conversation: kind === 'im' ? { kind: 'im', peer: name } : { kind: 'chat', room: name },
    sender: tape[at + 2] as string,
    text: tape[at + 3] as string,
  };
  const fields = tape[at + 4] as number;
  if (fields === 0) return message;
  // Only the fields the plugin set: the core tells "not given" from a given value.
  let next = at + MESSAGE_HEAD;
  const m = message as unknown as Record<string, unknown>;
  for (let f = 0; f < MESSAGE_FIELDS.length; f++) if ((fields & (1 << f)) !== 0) m[MESSAGE_FIELDS[f]!] = tape[next++];
  return message;
}

function readPresence(tape: WorkerTape, at: number): Presence {
  const presence = { status: tape[at + 3] } as Presence;
  if (tape[at + 4] !== undefined) presence.message = tape[at + 4] as string;
  if (tape[at + 5] !== undefined) presence.label = tape[at + 5] as string;
  if (tape[at + 6] !== undefined) presence.idleSince = tape[at + 6] as number;
  return presence;
}
