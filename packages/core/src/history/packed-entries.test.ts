import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from './history-store.js';
import { packEntry, unpackEntries } from './packed-entries.js';

describe('packed history entries', () => {
  it('carry every field the store keeps, optional ones and flags included, in order', () => {
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
    const packed: unknown[] = [];
    packEntry(full, packed);
    packEntry(bare, packed);
    // Plain values only: that is what makes the copy to the history thread cheap.
    expect(packed.every((v) => v === undefined || ['string', 'number'].includes(typeof v))).toBe(true);
    const out: HistoryEntry[] = [];
    unpackEntries(structuredClone(packed), (e) => out.push(e));
    expect(out).toEqual([full, bare]);
  });
});
