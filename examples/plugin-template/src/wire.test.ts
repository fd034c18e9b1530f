import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE, encodeLine, parseLine } from './wire.js';

describe('parseLine', () => {
  it('reads the server lines of the protocol', () => {
    expect(parseLine('{"op":"msg","from":"bob","text":"hi"}')).toEqual({ op: 'msg', from: 'bob', text: 'hi' });
    expect(parseLine('{"op":"presence","from":"bob","status":"away","message":"lunch"}')).toEqual({ op: 'presence', from: 'bob', status: 'away', message: 'lunch' });
    expect(parseLine('{"op":"denied","reason":"password","text":"no"}')).toEqual({ op: 'denied', reason: 'password', text: 'no' });
  });

  it('skips what is not the protocol', () => {
    for (const line of ['', 'not json', 'null', '[]', '"x"', '42', '{"op":"msg"}', '{"op":"msg","from":1,"text":"x"}', '{"op":"typing","from":"b","state":"dancing"}', '{"op":"presence","from":"b","status":"on-the-moon"}', '{"op":"unknown"}', `{"op":"msg","from":"${'b'.repeat(500)}","text":"x"}`]) {
      expect(parseLine(line), line.slice(0, 40)).toBeUndefined();
    }
  });
});

describe('LineSplitter', () => {
  it('joins lines across chunks and drops a line longer than the limit', () => {
    let overflows = 0;
    const split = new LineSplitter(() => overflows++);
    expect(split.push('{"a":')).toEqual([]);
    expect(split.push('1}\n{"b":2}\n')).toEqual(['{"a":1}', '{"b":2}']);
    expect(split.push('x'.repeat(MAX_LINE + 1))).toEqual([]);
    expect(split.push('rest of the long line\nnext\n')).toEqual(['next']);
    expect(overflows).toBe(1);
  });
});

describe('encodeLine', () => {
  it('keeps line breaks in text inside the one line', () => {
    const line = encodeLine({ op: 'msg', to: 'bob', text: 'a\r\n{"op":"presence"}\n' });
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toMatchObject({ text: 'a\r\n{"op":"presence"}\n' });
  });
});
