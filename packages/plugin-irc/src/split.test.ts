import { describe, expect, it } from 'vitest';
import { IRC_LINE_LIMIT, splitText, textBudget, utf8Length } from './split.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Every piece must be valid UTF-8 on its own: a cut inside a sequence would fail to decode. */
function assertWholeSequences(pieces: string[]): void {
  for (const piece of pieces) expect(decoder.decode(new TextEncoder().encode(piece))).toBe(piece);
  for (const piece of pieces) expect(piece).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
}

describe('textBudget (RFC 2812 section 2.3: 512 bytes with prefix and CR LF)', () => {
  it('leaves exactly the room the relayed line has', () => {
    const source = 'alice!~a@127.0.0.1';
    const budget = textBudget({ command: 'PRIVMSG', target: '#room', source });
    const relayed = `:${source} PRIVMSG #room :${'x'.repeat(budget)}\r\n`;
    expect(utf8Length(relayed)).toBe(IRC_LINE_LIMIT);
  });

  it('assumes the longest user and host when they are not known', () => {
    const known = textBudget({ command: 'PRIVMSG', target: 'bob', source: 'alice!a@h' });
    const unknown = textBudget({ command: 'PRIVMSG', target: 'bob', source: 'alice' });
    expect(unknown).toBeLessThan(known - 60);
  });

  it('subtracts the CTCP ACTION wrapper', () => {
    const plain = textBudget({ command: 'PRIVMSG', target: '#r', source: 'a!b@c' });
    expect(textBudget({ command: 'PRIVMSG', target: '#r', source: 'a!b@c', wrapperBytes: 9 })).toBe(plain - 9);
  });
});

describe('splitText', () => {
  it('keeps short text whole and drops empty text', () => {
    expect(splitText('hello', 100)).toEqual(['hello']);
    expect(splitText('', 100)).toEqual([]);
  });

  it('cuts at spaces when it can', () => {
    const words = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    const pieces = splitText(words, 40);
    for (const p of pieces) expect(utf8Length(p)).toBeLessThanOrEqual(40);
    expect(pieces.join(' ')).toBe(words);
  });

  it('never cuts inside a UTF-8 sequence (2-, 3- and 4-byte characters)', () => {
    for (const ch of ['é', '€', '😀', 'ﬀ']) {
      const text = ch.repeat(300);
      for (const max of [4, 5, 7, 101, 450]) {
        const pieces = splitText(text, max);
        assertWholeSequences(pieces);
        for (const p of pieces) expect(utf8Length(p)).toBeLessThanOrEqual(max);
        expect(pieces.join('')).toBe(text);
      }
    }
  });

  it('keeps a grapheme (flag, family emoji) together', () => {
    const family = '👨‍👩‍👧‍👦';
    const text = `${'a'.repeat(10)}${family}`;
    const pieces = splitText(text, 30);
    expect(pieces).toEqual(['a'.repeat(10), family]);
  });

  it('cuts a grapheme longer than a line by code points, still on sequence boundaries', () => {
    const zalgo = 'e' + '\u0301'.repeat(400);
    const pieces = splitText(zalgo, 101);
    assertWholeSequences(pieces);
    expect(pieces.join('')).toBe(zalgo);
    for (const p of pieces) expect(utf8Length(p)).toBeLessThanOrEqual(101);
  });

  it('handles hostile input: lone surrogates and control characters do not throw', () => {
    const hostile = '\uD800x\uDFFF'.repeat(100) + '\x01\x02';
    const pieces = splitText(hostile, 50);
    for (const p of pieces) expect(utf8Length(p)).toBeLessThanOrEqual(50);
  });

  it('refuses a budget that leaves no room', () => {
    expect(() => splitText('abc', 2)).toThrow(RangeError);
  });
});
