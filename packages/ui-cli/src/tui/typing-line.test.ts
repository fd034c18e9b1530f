import { describe, expect, it } from 'vitest';
import type { TypingState } from '@parley/core';
import { typingLine } from './typing-line.js';

const chat = (entries: Array<[string, TypingState]>) => ({ kind: 'chat' as const, typing: 'idle' as const, chatTyping: new Map(entries) });

describe('the line that says who is typing', () => {
  it('an IM: the peer typing or paused, nothing when idle', () => {
    expect(typingLine({ kind: 'im', typing: 'typing', chatTyping: new Map() }, 'Bob')).toBe('Bob is typing…');
    expect(typingLine({ kind: 'im', typing: 'paused', chatTyping: new Map() }, 'Bob')).toBe('Bob stopped typing');
    expect(typingLine({ kind: 'im', typing: 'idle', chatTyping: new Map() }, 'Bob')).toBeUndefined();
  });

  it('a group chat: the participants typing, those who paused only when nobody types', () => {
    expect(typingLine(chat([]), 'lobby')).toBeUndefined();
    expect(typingLine(chat([['alice', 'typing']]), 'lobby')).toBe('alice is typing…');
    expect(typingLine(chat([['alice', 'typing'], ['bob', 'paused'], ['carol', 'typing']]), 'lobby')).toBe('alice and carol are typing…');
    expect(typingLine(chat([['alice', 'typing'], ['bob', 'typing'], ['carol', 'typing']]), 'lobby')).toBe('alice, bob and carol are typing…');
    expect(typingLine(chat([['a', 'typing'], ['b', 'typing'], ['c', 'typing'], ['d', 'typing']]), 'lobby')).toBe('a, b and 2 others are typing…');
    expect(typingLine(chat([['bob', 'paused']]), 'lobby')).toBe('bob stopped typing');
  });

  it('a group chat from an owner that sends no typing map shows nothing', () => {
    expect(typingLine({ kind: 'chat', typing: 'idle', chatTyping: undefined as never }, 'lobby')).toBeUndefined();
  });
});
