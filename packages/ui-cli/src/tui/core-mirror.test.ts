import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ConversationInfo, CoreSnapshot, ParleyClient } from '@parley/core';
import { CoreMirror } from './core-mirror.js';

const EMPTY: CoreSnapshot = { accounts: [], presence: { status: 'available' }, groups: [], contacts: [], conversations: [], protocols: [], commands: [], transfers: [] };

/** A core's client side as the mirror sees it: events, and a snapshot read that answers a turn later. */
function fakeClient(): { client: ParleyClient; events: EventEmitter } {
  const events = new EventEmitter();
  const client = { events, snapshot: async () => EMPTY } as unknown as ParleyClient;
  return { client, events };
}

const conversation = (id: string) => ({ id, kind: 'im', accountId: 'a', name: id }) as unknown as ConversationInfo;

/** Resolves after `turns` microtask turns. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await Promise.resolve();
}

describe('the interactive client mirror of the core', () => {
  it('delivers an event that comes a few turns after the previous burst was handed out, whatever the turn', async () => {
    for (let delay = 0; delay <= 8; delay++) {
      const { client, events } = fakeClient();
      const mirror = await CoreMirror.open(client);
      const seen: string[] = [];
      mirror.on('conversationCreated', (c) => seen.push(`created ${c.id}`));
      mirror.on('conversationRead', (c) => seen.push(`read ${c.id}`));
      let sent = false;
      const offChanged = mirror.onChange(() => {
        offChanged();
        // The next event comes as the run that handed out the first is ending.
        void turns(delay).then(() => {
          events.emit('conversationRead', conversation('b'));
          sent = true;
        });
      });
      events.emit('conversationCreated', conversation('a'));
      await expect.poll(() => sent, { timeout: 1000 }).toBe(true);
      await expect.poll(() => seen, { timeout: 1000, message: `an event ${delay} turns after the burst` }).toEqual(['created a', 'read b']);
      mirror.close();
    }
  });

  it('hands out events after the snapshot that includes them, in order, with one read for a burst', async () => {
    const { client, events } = fakeClient();
    let reads = 0;
    const counting = { ...client, events, snapshot: async () => (reads++, EMPTY) } as unknown as ParleyClient;
    const mirror = await CoreMirror.open(counting);
    const readsAtOpen = reads;
    const seen: string[] = [];
    mirror.on('conversationCreated', (c) => seen.push(c.id));
    for (const id of ['a', 'b', 'c']) events.emit('conversationCreated', conversation(id));
    await expect.poll(() => seen, { timeout: 1000 }).toEqual(['a', 'b', 'c']);
    // The first event starts a read; the two during it share one more.
    expect(reads - readsAtOpen).toBe(2);
    mirror.close();
  });
});
