import { describe, expect, it } from 'vitest';
import { LineDecoder } from './decode.js';

function collect(encoding = 'utf-8', fallbackEncoding = 'windows-1252', maxLineBytes?: number) {
  const lines: string[] = [];
  const problems: string[] = [];
  const decoder = new LineDecoder({
    encoding,
    fallbackEncoding,
    ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
    onLine: (l) => lines.push(l),
    onProblem: (p) => problems.push(p),
  });
  return { decoder, lines, problems };
}

describe('LineDecoder', () => {
  it('splits on LF, strips CR, keeps partial lines for the next chunk', () => {
    const { decoder, lines } = collect();
    decoder.push(Buffer.from(':a PRIVMSG #x :one\r\n:a PRIVMSG #x :tw'));
    decoder.push(Buffer.from('o\r\n\r\n\n'));
    expect(lines).toEqual([':a PRIVMSG #x :one', ':a PRIVMSG #x :two']);
  });

  it('joins a UTF-8 sequence cut between two chunks', () => {
    const { decoder, lines, problems } = collect();
    const bytes = Buffer.from('PRIVMSG #x :h€llo\r\n');
    decoder.push(bytes.subarray(0, 14));
    decoder.push(bytes.subarray(14));
    expect(lines).toEqual(['PRIVMSG #x :h€llo']);
    expect(problems).toEqual([]);
  });

  it('decodes a line that is not UTF-8 with the fallback encoding', () => {
    const { decoder, lines, problems } = collect('utf-8', 'windows-1252');
    decoder.push(Buffer.concat([Buffer.from('PRIVMSG #x :caf'), Buffer.from([0xe9]), Buffer.from('\r\n')]));
    expect(lines).toEqual(['PRIVMSG #x :café']);
    expect(problems).toEqual(['fallback-encoding']);
  });

  it('uses the fallback per line, not for the whole stream', () => {
    const { decoder, lines } = collect('utf-8', 'koi8-r');
    decoder.push(Buffer.concat([Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4, 0x0a]), Buffer.from('привет\n')]));
    expect(lines).toEqual(['Привет', 'привет']);
  });

  it('skips an endless line without line ends and recovers at the next one', () => {
    const { decoder, lines, problems } = collect('utf-8', 'windows-1252', 100);
    for (let i = 0; i < 50; i++) decoder.push(Buffer.alloc(64, 0x41));
    decoder.push(Buffer.from('AAAA\r\nPING :ok\r\n'));
    expect(lines).toEqual(['PING :ok']);
    expect(problems).toEqual(['too-long']);
  });

  it('skips a complete line over the limit', () => {
    const { decoder, lines } = collect('utf-8', 'windows-1252', 10);
    decoder.push(Buffer.from('0123456789ABC\nshort\n'));
    expect(lines).toEqual(['short']);
  });

  it('survives random bytes', () => {
    const { decoder, lines } = collect();
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), (seed >>> 16) & 0xff);
    for (let i = 0; i < 200; i++) decoder.push(Buffer.from(Array.from({ length: 97 }, rand)));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(typeof l).toBe('string');
  });

  it('falls back to windows-1252 when the configured fallback is unknown', () => {
    const { decoder, lines } = collect('utf-8', 'no-such-encoding');
    decoder.push(Buffer.from([0x41, 0xe9, 0x0a]));
    expect(lines).toEqual(['Aé']);
  });
});
