import { describe, expect, it } from 'vitest';
import { sameName, type Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { onlinePair, stateOf, unique } from './pair.js';

export function messagingChecks(lab: Lab): void {
  describe('instant messages', () => {
    it('sends an IM and receives the answer, text intact', async () => {
      const [a, b] = await onlinePair(lab);
      const text = `${unique('conformance')} — ünïcödé ✓ 🙂 <b>&amp;</b> "quoted" 'single'`;
      const sent = await a.parley.conversations.sendIm(a.accountId, b.address, text);
      expect(sent?.delivery).toMatch(/^(sent|delivered)$/);
      const [message, conversation] = await eventually(() => b.received.find(([m]) => m.text === text), `${b.address} to receive the IM`, lab.timeout);
      expect(conversation.kind).toBe('im');
      expect(sameName(conversation.name, a.address), `conversation ${conversation.name} should be with ${a.address}`).toBe(true);
      expect(sameName(message.sender, a.address), `sender ${message.sender} should be ${a.address}`).toBe(true);
      expect(message.direction).toBe('incoming');

      const answer = unique('answer');
      await b.parley.conversations.send(conversation.id, answer);
      const [reply, replyConversation] = await eventually(() => a.received.find(([m]) => m.text === answer), `${a.address} to receive the answer`, lab.timeout);
      expect(sameName(replyConversation.name, b.address)).toBe(true);
      expect(sameName(reply.sender, b.address)).toBe(true);
    });

    it('text with line breaks, control characters and protocol syntax cannot inject commands', async () => {
      const [a, b] = await onlinePair(lab);
      // What would be a command in some protocol if a plugin wrote text into the stream unescaped.
      const hostile = [
        'first line',
        'QUIT :injected',
        `PRIVMSG ${b.address} :injected`,
        '</body></message><presence type="unavailable"/>',
        '{"op":"presence","status":"offline"}',
        'BYE sip:x SIP/2.0',
        '\u0000\u0007\u001b[2J tail',
      ].join('\r\n');
      // A plugin may refuse such text with an error; it must not send it raw.
      await a.parley.conversations.sendIm(a.accountId, b.address, hostile).catch(() => undefined);
      const marker = unique('after the hostile text');
      await a.parley.conversations.sendIm(a.accountId, b.address, marker);
      await eventually(() => b.received.some(([m]) => m.text === marker), 'the next message to arrive', lab.timeout);
      expect(stateOf(a)).toBe('online');
      expect(stateOf(b)).toBe('online');
      // Whatever arrived came from the sender, as text in the conversation.
      for (const [message, conversation] of b.received) {
        expect(sameName(message.sender, a.address)).toBe(true);
        expect(conversation.kind).toBe('im');
      }
    });
  });
}
