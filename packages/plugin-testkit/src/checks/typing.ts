import { describe, expect, it } from 'vitest';
import { sameName, type Lab } from '../lab.js';
import { eventually, record } from '../wait.js';
import { onlinePair } from './pair.js';

export function typingChecks(lab: Lab): void {
  describe('typing notifications (declared: capabilities.typing)', () => {
    it('the peer sees typing start and stop', async () => {
      const [a, b] = await onlinePair(lab);
      const seen = record(b.parley.events, 'typingChanged');
      const conversation = a.parley.conversations.openIm(a.accountId, b.address);
      await a.parley.conversations.setTyping(conversation.id, 'typing');
      const [atPeer] = await eventually(() => seen.find(([, peer, state]) => sameName(peer, a.address) && state === 'typing'), `${b.address} to see ${a.address} typing`, lab.timeout);
      expect(atPeer.kind).toBe('im');
      expect(sameName(atPeer.name, a.address)).toBe(true);
      const from = seen.length;
      await a.parley.conversations.setTyping(conversation.id, 'idle');
      await eventually(() => seen.slice(from).some(([, peer, state]) => sameName(peer, a.address) && state !== 'typing'), `${b.address} to see the typing stop`, lab.timeout);
    });
  });
}
