import { describe, expect, it } from 'vitest';
import { IrcError } from './errors.js';
import { rawLine, singleLine, textLines, word } from './sanitize.js';

describe('textLines', () => {
  it('turns every CR, LF and NUL into a message boundary', () => {
    expect(textLines('hi\r\nQUIT :bye')).toEqual(['hi', 'QUIT :bye']);
    expect(textLines('a\rb\nc\0d')).toEqual(['a', 'b', 'c', 'd']);
    expect(textLines('\r\n\r\n')).toEqual([]);
  });
});

describe('single parameters', () => {
  it('refuses a topic with a line break', () => {
    expect(() => singleLine('new topic\r\nQUIT', 'topic')).toThrow(IrcError);
    expect(() => singleLine('a\0b', 'topic')).toThrow(expect.objectContaining({ code: 'irc-invalid-input' }));
    expect(singleLine('fine: topic', 'topic')).toBe('fine: topic');
  });

  it('refuses nicks and channels that would add or end parameters', () => {
    for (const bad of ['bob\r\nQUIT', 'bob QUIT', ':bob', '', 'a,b', 'x\0', 'lone\r']) {
      expect(() => word(bad, 'nick')).toThrow(IrcError);
    }
    expect(word('#room', 'channel')).toBe('#room');
  });

  it('allows one raw line only', () => {
    expect(rawLine('  MODE #x +m ')).toBe('MODE #x +m');
    expect(() => rawLine('PRIVMSG x :a\nQUIT')).toThrow(IrcError);
    expect(() => rawLine('   ')).toThrow(IrcError);
  });
});
