import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from './history-store.js';
import { EntryPacker, batchToEntries, batchTransfer, readBatch, type PackedBatch } from './packed-entries.js';
import { FLAG_BITS, bitsToFlags, flagsToBits } from './sqlite-history.js';

const full: HistoryEntry = {
  id: 'm1',
  protocolId: 'p1',
  conversationId: '',
  accountId: 'xmpp-1',
  peer: 'bob@example.org',
  conversationKind: 'chat',
  direction: 'outgoing',
  sender: 'me',
  senderAlias: 'Me',
  timestamp: 1_700_000_000_123,
  text: 'hello *there*',
  formatted: { html: '<b>there</b>' },
  flags: { delayed: true, action: true },
};
const bare: HistoryEntry = { id: 'm2', conversationId: '', accountId: 'irc-1', peer: '#room', conversationKind: 'im', direction: 'incoming', sender: 'carol', timestamp: 5, text: '', flags: {} };
const again: HistoryEntry = { ...bare, id: 'm3', text: 'carol again' };

describe('packed history entries', () => {
  const read = (batch: PackedBatch): HistoryEntry[] => {
    const out: HistoryEntry[] = [];
    batchToEntries(batch, (e) => out.push(e));
    return out;
  };

  it('carry every field the store keeps, optional ones and flags included, in order', () => {
    const packer = new EntryPacker();
    for (const e of [full, bare, again]) packer.add(e);
    expect(packer.size).toBe(3);
    const batch = packer.take();
    expect(packer.size).toBe(0);
    // One string and two buffers: that is what makes the crossing to the history thread cheap.
    expect(batch.strings).toBe('m1p1Mehello *there*<b>there</b>m2m3carol again');
    expect(batch.ints).toBeInstanceOf(Int32Array);
    expect(batch.times).toEqual(new Float64Array([1_700_000_000_123, 5, 5]));
    // A name that repeats crosses once.
    expect(batch.names.filter((n) => n === 'carol')).toHaveLength(1);
    expect(read(structuredClone(batch, { transfer: batchTransfer(batch) }))).toEqual([full, bare, again]);
  });

  it('give the store its insert values in the order of its columns', () => {
    const packer = new EntryPacker();
    packer.add(full);
    packer.add(bare);
    const rows: unknown[][] = [];
    readBatch(packer.take(), (...values) => rows.push(values));
    expect(rows).toEqual([
      ['m1', 'p1', 'xmpp-1', 'bob@example.org', 'chat', 'outgoing', 'me', 'Me', 1_700_000_000_123, 'hello *there*', '<b>there</b>', FLAG_BITS.delayed | FLAG_BITS.action],
      ['m2', null, 'irc-1', '#room', 'im', 'incoming', 'carol', null, 5, '', null, 0],
    ]);
  });

  it('keep any text exactly: empty, long, outside the Basic Multilingual Plane, a lone surrogate, NUL', () => {
    const texts = ['', 'x'.repeat(100_000), 'smile 😀 ünïcödé 中文', 'lone \ud800 surrogate', 'nul\u0000inside', '\u00e9'];
    const packer = new EntryPacker();
    texts.forEach((text, i) => packer.add({ ...bare, id: `t${i}`, text, senderAlias: text, formatted: { html: text } }));
    const out = read(structuredClone(packer.take()));
    expect(out.map((e) => [e.text, e.senderAlias, e.formatted?.html])).toEqual(texts.map((t) => [t, t, t]));
  });

  it('starts every batch with its own names', () => {
    const packer = new EntryPacker();
    packer.add(full);
    packer.take();
    packer.add(bare);
    const batch = packer.take();
    expect(batch.names).toEqual(['irc-1', '#room', 'im', 'incoming', 'carol']);
    expect(read(batch)).toEqual([bare]);
  });

  it('fills batches of its capacity, each taken as it was, the packer reused after each', () => {
    const packer = new EntryPacker(2);
    const taken: PackedBatch[] = [];
    const entries = [full, bare, again, { ...full, id: 'm4' }, { ...bare, id: 'm5' }];
    for (const e of entries) {
      packer.add(e);
      // As the history posts a full batch: its buffers handed over, before anything else is added.
      if (packer.full) {
        const batch = packer.take();
        taken.push(structuredClone(batch, { transfer: batchTransfer(batch) }));
      }
    }
    expect(() => {
      packer.add(full);
      packer.add(full);
      packer.add(full);
    }).toThrow(RangeError);
    expect(packer.size).toBe(2);
    packer.take();
    packer.add(entries[4]!);
    taken.push(packer.take());
    expect(taken.map((batch) => batch.count)).toEqual([2, 2, 1]);
    expect(taken.flatMap(read)).toEqual(entries);
  });

  it('packs a message with its peer and kind as it packs the same history entry', () => {
    const byEntry = new EntryPacker();
    const byMessage = new EntryPacker();
    for (const e of [full, bare, again]) {
      byEntry.add(e);
      const { peer, conversationKind, ...message } = e;
      byMessage.addMessage(message, peer, conversationKind);
    }
    expect(byMessage.take()).toEqual(byEntry.take());
  });

  it('store every message flag, each alone and all together', () => {
    const names = Object.keys(FLAG_BITS) as Array<keyof typeof FLAG_BITS>;
    for (const name of names) {
      expect(flagsToBits({ [name]: true })).toBe(FLAG_BITS[name]);
      expect(bitsToFlags(flagsToBits({ [name]: true, delayed: name === 'delayed' ? true : false }))).toEqual({ [name]: true });
    }
    const all = Object.fromEntries(names.map((n) => [n, true]));
    expect(bitsToFlags(flagsToBits(all))).toEqual(all);
    expect(flagsToBits({})).toBe(0);
  });
});
