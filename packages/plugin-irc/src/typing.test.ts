import { describe, expect, it } from 'vitest';
import { readTypingTag, typingLine } from './typing.js';

describe('the IRCv3 typing client tag', () => {
  it('reads active, paused and done, also the draft name; anything else is no typing', () => {
    expect(readTypingTag({ '+typing': 'active' })).toBe('typing');
    expect(readTypingTag({ '+typing': 'paused' })).toBe('paused');
    expect(readTypingTag({ '+typing': 'done' })).toBe('idle');
    expect(readTypingTag({ '+draft/typing': 'active' })).toBe('typing');
    for (const tags of [undefined, {}, { '+typing': '' }, { '+typing': 'ACTIVE' }, { '+typing': 'constructor' }, { '+typing': '__proto__' }, { '+typing': 'active\r\nQUIT' }, { typing: 'active' }]) {
      expect(readTypingTag(tags)).toBeUndefined();
    }
  });

  it('writes one TAGMSG line per state', () => {
    expect(typingLine('#chan', 'typing')).toBe('@+typing=active TAGMSG #chan');
    expect(typingLine('#chan', 'paused')).toBe('@+typing=paused TAGMSG #chan');
    expect(typingLine('#chan', 'idle')).toBe('@+typing=done TAGMSG #chan');
  });
});
