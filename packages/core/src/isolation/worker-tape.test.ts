import { beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ContextNotice, FromWorker } from './worker-protocol.js';
import { ConversationIds, ConversationTable, noticeOf, readTape, splitTape, writeNotice as writeWith, writeOther, type WorkerTape } from './worker-tape.js';
import { isPackedRoster, packRoster, samePackedRoster, unpackRoster } from './packed-roster.js';

const same = (value: unknown) => value;

/** The worker's conversation ids for the tapes a test writes. */
let ids = new ConversationIds();
const writeNotice = (tape: WorkerTape, conn: number, call: ContextNotice, copy: (value: unknown) => unknown) => writeWith(tape, ids, conn, call, copy);
beforeEach(() => {
  ids = new ConversationIds();
});

/** What the core reads from a tape after it crossed a MessagePort. */
function read(tape: WorkerTape, table = new ConversationTable()): Array<{ conn: number; call: ContextNotice } | FromWorker | { failed: string }> {
  const got: Array<{ conn: number; call: ContextNotice } | FromWorker | { failed: string }> = [];
  readTape(
    structuredClone(tape),
    {
      notice: (conn, call) => got.push({ conn, call }),
      other: (message) => got.push(message),
      failed: (error) => got.push({ failed: String(error) }),
    },
    table,
  );
  return got;
}

describe('the worker tape', () => {
  it('gives the core every call in the order the plugin made it, whatever record each takes', () => {
    const tape: WorkerTape = [];
    const calls: Array<[number, ContextNotice] | FromWorker> = [
      [1, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 'bob', text: 'hi' }] }],
      { t: 'log', conn: 1, level: 'debug', message: 'between' },
      [2, { method: 'buddies.presence', args: ['carol@x', { status: 'away', message: 'lunch' }] }],
      [1, { method: 'typing', args: ['bob', 'typing'] }],
      [2, { method: 'receiveMessage', args: [{ conversation: { kind: 'im', peer: 'dave' }, sender: 'dave', text: 'yo', timestamp: 5, protocolId: 'id1', flags: { action: true }, fromSelf: false, senderAlias: 'Dave' }] }],
      { t: 'pong', n: 3 },
      [1, { method: 'progress', args: ['Connecting', 2, 5] }],
    ];
    for (const call of calls) {
      if (Array.isArray(call)) writeNotice(tape, call[0], call[1], same);
      else writeOther(tape, call);
    }
    expect(read(tape)).toEqual(calls.map((c) => (Array.isArray(c) ? { conn: c[0], call: c[1] } : c)));
  });

  it('keeps a message field the plugin did not set unset, and one it set, set', () => {
    const tape: WorkerTape = [];
    writeNotice(tape, 1, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 's', text: '' }] }, same);
    const [first] = read(tape) as Array<{ call: { args: [object] } }>;
    expect(Object.keys(first!.call.args[0]).sort()).toEqual(['conversation', 'sender', 'text']);
  });

  it('sends what is not a well-formed message or presence as it was, for the core to judge', () => {
    const odd: ContextNotice[] = [
      { method: 'receiveMessage', args: [null as never] },
      { method: 'receiveMessage', args: [{ conversation: { kind: 'group', room: '#a' }, sender: 's', text: 't' } as never] },
      { method: 'receiveMessage', args: [{ conversation: { kind: 'im', room: '#a' }, sender: 's', text: 't' } as never] },
      { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 5, text: 't' } as never] },
      { method: 'receiveMessage', args: ['text' as never] },
      { method: 'buddies.presence', args: ['x', 'away' as never] },
      { method: 'buddies.presence', args: ['x', null as never] },
    ];
    const tape: WorkerTape = [];
    for (const call of odd) writeNotice(tape, 7, call, same);
    expect(read(tape)).toEqual(odd.map((call) => ({ conn: 7, call })));
  });

  it('reads a presence as the core reads one in process: status, message, label, idle time', () => {
    const tape: WorkerTape = [];
    writeNotice(tape, 1, { method: 'buddies.presence', args: ['x', { status: 'available', label: 'In a meeting', idleSince: 10, extra: 1 } as never] }, same);
    expect(read(tape)).toEqual([{ conn: 1, call: { method: 'buddies.presence', args: ['x', { status: 'available', label: 'In a meeting', idleSince: 10 }] } }]);
  });

  it('reads every record of a hostile tape it can, and reports the rest', () => {
    const tape: WorkerTape = [];
    writeNotice(tape, 1, { method: 'typing', args: ['a', 'typing'] }, same);
    const got: string[] = [];
    readTape(tape, {
      notice: (_conn, call) => {
        got.push(call.method);
        throw new Error('handler failed');
      },
      other: () => got.push('other'),
      failed: () => got.push('failed'),
    });
    expect(got).toEqual(['typing', 'failed']);
    // Unknown tags, a negative argument count, a tape that ends early: nothing throws out of readTape.
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -2, max: 5 }), fc.string(), fc.constant(undefined), fc.constant(null), fc.object())), (junk) => {
        readTape(junk, { notice: () => {}, other: () => {}, failed: () => {} });
        expect(splitTape(junk).reduce((sum, record) => sum + record.length, 0)).toBe(junk.length);
      }),
    );
  });

  it('splits into one tape per record, each read back to the same call', () => {
    const tape: WorkerTape = [];
    writeNotice(tape, 1, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 's', text: 't' }] }, same);
    writeOther(tape, { t: 'pong', n: 1 });
    writeNotice(tape, 2, { method: 'chats.topic', args: ['#a', 'topic', 'op'] }, same);
    const parts = splitTape(tape);
    // The conversation's id, the message, the pong, the topic.
    expect(parts).toHaveLength(4);
    const table = new ConversationTable();
    expect(parts.flatMap((part) => read(part, table))).toEqual(read(tape));
    expect(noticeOf(parts[3]!, ids.table)).toEqual({ conn: 2, call: { method: 'chats.topic', args: ['#a', 'topic', 'op'] } });
    expect(noticeOf(parts[1]!, ids.table)).toEqual({ conn: 1, call: { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 's', text: 't' }] } });
    expect(noticeOf(parts[2]!, ids.table)).toBeUndefined();
  });

  it('names each conversation once across tapes, per connection and kind, and reads every message back to its own', () => {
    const table = new ConversationTable();
    const messages: Array<[number, ContextNotice]> = [
      [1, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 's', text: '1' }] }],
      [1, { method: 'receiveMessage', args: [{ conversation: { kind: 'im', peer: '#a' }, sender: '#a', text: '2' }] }],
      [2, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 's', text: '3' }] }],
      [1, { method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room: '#a' }, sender: 't', text: '4', timestamp: 9 }] }],
    ];
    const first: WorkerTape = [];
    for (const [conn, call] of messages) writeNotice(first, conn, call, same);
    const second: WorkerTape = [];
    ids.startTape();
    for (const [conn, call] of messages) writeNotice(second, conn, call, same);
    const expected = messages.map(([conn, call]) => ({ conn, call }));
    expect(read(first, table)).toEqual(expected);
    // Already named: the second tape holds only the messages, and reads back the same.
    expect(splitTape(second)).toHaveLength(4);
    expect(read(second, table)).toEqual(expected);
    // A message naming an id the core was never told is reported, and the rest is read.
    expect(read(second, new ConversationTable()).filter((r) => 'failed' in r)).toHaveLength(4);
  });

  it('starts its ids again past a limit, defining each again before it is used', () => {
    const table = new ConversationTable();
    const call = (room: string): ContextNotice => ({ method: 'receiveMessage', args: [{ conversation: { kind: 'chat', room }, sender: 's', text: room }] });
    for (let i = 0; i < 5000; i++) {
      const tape: WorkerTape = [];
      ids.startTape();
      writeNotice(tape, 1, call(`#r${i}`), same);
      read(tape, table);
    }
    // The ids started over at the 4,097th: #r0's id now names #r4096, and #r0 is named again.
    const tape: WorkerTape = [];
    ids.startTape();
    writeNotice(tape, 1, call('#r0'), same);
    writeNotice(tape, 1, call('#r4096'), same);
    expect(splitTape(tape)).toHaveLength(3);
    expect(read(tape, table)).toEqual([
      { conn: 1, call: call('#r0') },
      { conn: 1, call: call('#r4096') },
    ]);
  });

  it('refuses a conversation record that names nothing usable', () => {
    for (const bad of [[4, -1, 1, 'chat', '#a'], [4, 1.5, 1, 'chat', '#a'], [4, 2 ** 30, 1, 'chat', '#a'], [4, 1, 1, 'group', '#a'], [4, 1, 1, 'chat', 5], [4, 1, 'x', 'chat', '#a']]) {
      expect(read(bad)).toEqual([{ failed: expect.stringMatching(/bad conversation/) as unknown as string }]);
    }
  });
});

describe('a roster across the boundary', () => {
  it('arrives as the entries the plugin gave, one group or several, alias or not', () => {
    const entries = [
      { name: 'a@x', groups: ['Friends'] },
      { name: 'b@x', alias: 'Bee', groups: ['Friends', 'Work'] },
      { name: 'c@x' },
      { name: 'd@x', groups: [] },
    ];
    expect(unpackRoster(structuredClone(packRoster(entries)))).toEqual(entries);
  });

  it('passes bad entries through unchanged in what the core checks (it drops them as in process)', () => {
    const bad = [null, 5, { name: 7 }, { name: 'x', groups: 'Friends' }, { name: 'y', groups: [3] }] as never[];
    const got = unpackRoster(structuredClone(packRoster(bad)));
    expect(got.map((e) => e.name)).toEqual([undefined, undefined, 7, 'x', 'y']);
    expect(got[3]!.groups).toBe('Friends');
    expect(got[4]!.groups).toEqual([3]);
  });

  it('gives a fresh list each time it is read', () => {
    const packed = packRoster([{ name: 'a', groups: ['G', 'H'] }]);
    const first = unpackRoster(packed);
    (first[0]!.groups as string[]).push('changed');
    expect(unpackRoster(packed)[0]!.groups).toEqual(['G', 'H']);
  });

  it('tells an unchanged list from a changed one', () => {
    const list = [{ name: 'a', alias: 'A', groups: ['G'] }, { name: 'b', groups: ['G'] }];
    expect(samePackedRoster(packRoster(list), packRoster(structuredClone(list)))).toBe(true);
    expect(samePackedRoster(packRoster(list), packRoster([list[0]!]))).toBe(false);
    expect(samePackedRoster(packRoster(list), packRoster([list[0]!, { name: 'b', groups: ['H'] }]))).toBe(false);
    expect(samePackedRoster(packRoster(list), packRoster([{ ...list[0]!, alias: 'B' }, list[1]!]))).toBe(false);
  });

  it('takes a packed list from the other side only with its three columns of one length', () => {
    expect(isPackedRoster(structuredClone(packRoster([{ name: 'a', groups: ['G'] }])))).toBe(true);
    for (const bad of [null, 'x', {}, { names: [], aliases: [] }, { names: ['a'], aliases: [], groups: [] }, { names: 'ab', aliases: 'ab', groups: 'ab' }]) expect(isPackedRoster(bad)).toBe(false);
  });
});
