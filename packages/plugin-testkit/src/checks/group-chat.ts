import { describe, expect, it } from 'vitest';
import { sameName, type Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { onlinePair, unique } from './pair.js';

export function groupChatChecks(lab: Lab): void {
  describe('group chat (declared: capabilities.groupChat)', () => {
    it('both join a room, exchange messages there, and one leaves', async () => {
      if (lab.harness.room === undefined) throw new Error('The plugin declares groupChat: the harness must name a room (room())');
      const room = await lab.harness.room();
      const [a, b] = await onlinePair(lab);
      const inA = await a.parley.chats.join(a.accountId, room);
      expect(inA.kind).toBe('chat');
      const inB = await b.parley.chats.join(b.accountId, room);
      await eventually(() => a.parley.conversations.get(inA.id)?.joined, `${a.address} to be in ${room}`, lab.timeout);
      await eventually(() => b.parley.conversations.get(inB.id)?.joined, `${b.address} to be in ${room}`, lab.timeout);

      const text = unique('to the room');
      await a.parley.conversations.send(inA.id, text);
      const [message, conversation] = await eventually(() => b.received.find(([m, c]) => c.kind === 'chat' && m.text.includes(text)), `${b.address} to read it in ${room}`, lab.timeout);
      expect(sameName(conversation.name, room), `room ${conversation.name} should be ${room}`).toBe(true);
      const nickA = a.account.chatName ?? a.address;
      expect(sameName(message.sender, nickA), `sender ${message.sender} should be ${nickA}`).toBe(true);

      const answer = unique('answer in the room');
      await b.parley.conversations.send(inB.id, answer);
      const [reply] = await eventually(() => a.received.find(([m, c]) => c.kind === 'chat' && m.text.includes(answer)), `${a.address} to read the answer`, lab.timeout);
      expect(sameName(reply.sender, b.account.chatName ?? b.address)).toBe(true);

      await a.parley.chats.leave(inA.id);
      expect(a.parley.conversations.get(inA.id)?.joined ?? false).toBe(false);
    });
  });
}
