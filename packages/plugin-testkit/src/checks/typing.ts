import { describe, expect, it } from 'vitest';
import { sameName, type Lab } from '../lab.js';
import { eventually, record } from '../wait.js';
import { onlinePair, unique } from './pair.js';

export function typingChecks(lab: Lab): void {
  describe('typing notifications (declared: capabilities.typing)', () => {
    it('the peer sees typing start and stop', async () => {
      const [a, b] = await onlinePair(lab);
      // Typing is tested inside a conversation both sides have written in: some protocols
      // (XMPP chat states, XEP-0085 section 5.1) send notifications only to a peer that showed support.
      const hello = unique('typing opener');
      const reply = unique('typing reply');
      const got = record(b.parley.events, 'messageReceived');
      await a.parley.conversations.sendIm(a.accountId, b.address, hello);
      await eventually(() => got.find(([m]) => m.text === hello), `${b.address} to receive the opener`, lab.timeout);
      const back = record(a.parley.events, 'messageReceived');
      await b.parley.conversations.sendIm(b.accountId, a.address, reply);
      await eventually(() => back.find(([m]) => m.text === reply), `${a.address} to receive the reply`, lab.timeout);
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
