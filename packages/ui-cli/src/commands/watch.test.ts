import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AccountInfo, ParleyClient } from '@parley/core';
import { followEvents, type WatchEvent } from './watch.js';

describe('watch: group chat typing', () => {
  it('says who is typing in which room, as a typing event with the participant as peer', () => {
    const events = new EventEmitter();
    const account = { id: 'ocs:alice@example.com', protocol: 'ocs', username: 'alice@example.com' } as AccountInfo;
    const seen: Array<[WatchEvent, string]> = [];
    const stop = followEvents({ events } as unknown as Pick<ParleyClient, 'events'>, [account], (event, text) => seen.push([event, text]));
    const room = { id: 'c1', kind: 'chat', accountId: account.id, name: 'conf:sip:bob@example.com;gruu;opaque=app:conf:focus:id:X' };
    events.emit('chatTypingChanged', room, 'carol@example.com', 'typing');
    events.emit('chatTypingChanged', { ...room, accountId: 'other' }, 'dave@example.com', 'typing');
    events.emit('chatTypingChanged', room, 'carol@example.com', 'idle');
    stop();
    events.emit('chatTypingChanged', room, 'carol@example.com', 'typing');
    expect(seen.map(([e]) => [e.type, e.peer, e.state, e.conversation])).toEqual([
      ['typing', 'carol@example.com', 'typing', { kind: 'chat', name: room.name }],
      ['typing', 'carol@example.com', 'idle', { kind: 'chat', name: room.name }],
    ]);
    expect(seen[0]![1]).toMatch(/ conf:sip:bob@example\.com;gruu;opaque=app:conf:focus:id:X carol@example\.com is typing$/);
  });
});
