import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from './history-store.js';
import { EntryPacker, PACKED_WIDTH, entryToRow, resolveNames, rowsToEntries } from './packed-entries.js';
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
  it('carry every field the store keeps, optional ones and flags included, in order', () => {
    const packer = new EntryPacker();
    for (const e of [full, bare, again]) packer.add(e);
    expect(packer.size).toBe(3 * PACKED_WIDTH);
    const batch = packer.take();
    expect(packer.size).toBe(0);
    // Plain values only: that is what makes the copy to the history thread cheap.
    expect(batch.rows.every((v) => v === null || ['string', 'number'].includes(typeof v))).toBe(true);
    // A name that repeats crosses once.
    expect(batch.names.filter((n) => n === 'carol')).toHaveLength(1);
    const rows = resolveNames(structuredClone(batch));
    const direct: unknown[] = [];
    for (const e of [full, bare, again]) entryToRow(e, direct);
    expect(rows).toEqual(direct);
    const out: HistoryEntry[] = [];
    rowsToEntries(rows, (e) => out.push(e));
    expect(out).toEqual([full, bare, again]);
  });

  it('starts every batch with its own names', () => {
    const packer = new EntryPacker();
    packer.add(full);
    packer.take();
    packer.add(bare);
    const out: HistoryEntry[] = [];
    rowsToEntries(resolveNames(packer.take()), (e) => out.push(e));
    expect(out).toEqual([bare]);
  });

  it('fills batches of its capacity in one array reused after each full batch, each batch copied as it was taken', () => {
    const packer = new EntryPacker(2);
    const taken: unknown[][] = [];
    const entries = [full, bare, again, { ...full, id: 'm4' }, { ...bare, id: 'm5' }];
    for (const e of entries) {
      packer.add(e);
      // As the history posts a full batch: a copy, before anything else is added.
      if (packer.full) taken.push(resolveNames(structuredClone(packer.take())));
    }
    expect(() => {
      packer.add(full);
      packer.add(full);
      packer.add(full);
    }).toThrow(RangeError);
    expect(packer.size).toBe(2 * PACKED_WIDTH);
    packer.take();
    packer.add(entries[4]!);
    taken.push(resolveNames(packer.take()));
    expect(taken.map((rows) => rows.length / PACKED_WIDTH)).toEqual([2, 2, 1]);
    const out: HistoryEntry[] = [];
    for (const rows of taken) rowsToEntries(rows, (e) => out.push(e));
    expect(out).toEqual([full, bare, again, { ...full, id: 'm4' }, { ...bare, id: 'm5' }]);
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
