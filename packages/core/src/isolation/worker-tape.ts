import type { IncomingMessage } from '../conversations/message.js';
import type { Presence } from '../presence/presence.js';
import type { ContextNotice, FromWorker } from './worker-protocol.js';

/**
 * What a plugin's worker sends the core in one turn of its work, as one flat
 * list of records (one postMessage). Structured clone is cheap for strings
 * and numbers and dear for objects: each object costs its field names and a
 * slow rebuild on the core's thread. So the calls a plugin makes by the
 * thousand cross without objects around them:
 *
 *     MESSAGE  conn kind name sender text senderAlias formatted timestamp protocolId flags fromSelf
 *              (receiveMessage with a well-formed conversation, sender and text)
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
const MESSAGE_LENGTH = 12;
const PRESENCE_LENGTH = 7;

/** Appends `call` of connection `conn` to `tape`, in the cheapest record that keeps it. */
export function writeNotice(tape: WorkerTape, conn: number, call: ContextNotice, copy: (value: unknown) => unknown): void {
  if (call.method === 'receiveMessage' && writeMessage(tape, conn, call.args[0])) return;
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

function writeMessage(tape: WorkerTape, conn: number, message: IncomingMessage | null | undefined): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const c = message.conversation as { kind?: unknown; peer?: unknown; room?: unknown } | null | undefined;
  if (typeof c !== 'object' || c === null) return false;
  const name = c.kind === 'im' ? c.peer : c.kind === 'chat' ? c.room : undefined;
  if (typeof name !== 'string' || typeof message.sender !== 'string' || typeof message.text !== 'string') return false;
  tape.push(MESSAGE, conn, c.kind, name, message.sender, message.text, message.senderAlias, message.formatted, message.timestamp, message.protocolId, message.flags, message.fromSelf);
  return true;
}

export function writeOther(tape: WorkerTape, message: FromWorker): void {
  tape.push(OTHER, message);
}

/** Where each record of the tape is read. */
export interface TapeReader {
  notice(conn: number, call: ContextNotice): void;
  other(message: FromWorker): void;
  /** A record could not be read or handled: the rest of the tape still is. */
  failed(error: unknown): void;
}

/** Reads the records in order. A record the reader throws on is reported and skipped. */
export function readTape(tape: WorkerTape, reader: TapeReader): void {
  let i = 0;
  while (i < tape.length) {
    const start = i;
    const tag = tape[i];
    i = start + recordLength(tape, start);
    try {
      if (tag === OTHER) reader.other(tape[start + 1] as FromWorker);
      else if (tag === MESSAGE) reader.notice(tape[start + 1] as number, { method: 'receiveMessage', args: [readMessage(tape, start)] });
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
    case MESSAGE:
      return MESSAGE_LENGTH;
    case PRESENCE:
      return PRESENCE_LENGTH;
    case NOTICE: {
      const argc = tape[at + 3];
      return 4 + (typeof argc === 'number' && argc >= 0 ? argc : 0);
    }
    case OTHER:
      return 2;
    default:
      // Nothing after an unknown tag can be trusted to line up.
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

/** The context call a record holds (undefined for an OTHER record), for one that cannot be copied. */
export function noticeOf(record: WorkerTape): { conn: number; call: ContextNotice } | undefined {
  let found: { conn: number; call: ContextNotice } | undefined;
  readTape(record, {
    notice: (conn, call) => {
      found = { conn, call };
    },
    other: () => {},
    failed: () => {},
  });
  return found;
}

function readMessage(tape: WorkerTape, at: number): IncomingMessage {
  const kind = tape[at + 2];
  const name = tape[at + 3] as string;
  const message: IncomingMessage = {
    conversation: kind === 'im' ? { kind: 'im', peer: name } : { kind: 'chat', room: name },
    sender: tape[at + 4] as string,
    text: tape[at + 5] as string,
  };
  // Only the fields the plugin set: the core tells "not given" from a given value.
  if (tape[at + 6] !== undefined) message.senderAlias = tape[at + 6] as string;
  if (tape[at + 7] !== undefined) message.formatted = tape[at + 7] as IncomingMessage['formatted'];
  if (tape[at + 8] !== undefined) message.timestamp = tape[at + 8] as number;
  if (tape[at + 9] !== undefined) message.protocolId = tape[at + 9] as string;
  if (tape[at + 10] !== undefined) message.flags = tape[at + 10] as IncomingMessage['flags'];
  if (tape[at + 11] !== undefined) message.fromSelf = tape[at + 11] as boolean;
  return message;
}

function readPresence(tape: WorkerTape, at: number): Presence {
  const presence = { status: tape[at + 3] } as Presence;
  if (tape[at + 4] !== undefined) presence.message = tape[at + 4] as string;
  if (tape[at + 5] !== undefined) presence.label = tape[at + 5] as string;
  if (tape[at + 6] !== undefined) presence.idleSince = tape[at + 6] as number;
  return presence;
}
