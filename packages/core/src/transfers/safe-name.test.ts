import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numberedName, safeFileName } from './safe-name.js';

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['/etc/shadow', 'shadow'],
    ['C:\\Windows\\system.ini', 'system.ini'],
    ['..', undefined],
    ['.', undefined],
    ['', undefined],
    ['dir/', undefined],
    ['a\u0000b.txt', 'ab.txt'],
    ['  spaced .txt. ', 'spaced .txt'],
    ['...hidden', 'hidden'],
    ['photo\u202Egpj.exe', 'photogpj.exe'],
    ['line\nbreak.txt', 'linebreak.txt'],
    ['what?.txt', 'what_.txt'],
  ])('%j becomes %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('cuts a long name to fit a file system, keeping its extension', () => {
    const name = safeFileName(`${'é'.repeat(300)}.tar`)!;
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(215);
    expect(name.endsWith('.tar')).toBe(true);
  });

  it('cuts a name of any length quickly', () => {
    const name = safeFileName(`${'n'.repeat(1_000_000)}.txt`)!;
    expect(name).toBe(`${'n'.repeat(211)}.txt`);
    expect(Buffer.byteLength(safeFileName('😀'.repeat(100_000))!)).toBeLessThanOrEqual(215);
  });

  it('never yields a path, a dot name or a control character, whatever the peer sends', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (input) => {
        const name = safeFileName(input);
        if (name === undefined) return;
        expect(name).not.toMatch(/[/\\\u0000-\u001f]/);
        expect(name.startsWith('.')).toBe(false);
        expect(name).not.toBe('');
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
      }),
    );
  });
});

describe('numberedName', () => {
  it.each([
    ['notes.txt', 1, 'notes (1).txt'],
    ['archive.tar.gz', 2, 'archive (2).tar.gz'],
    ['README', 3, 'README (3)'],
    ['notes.txt', 0, 'notes.txt'],
  ])('%j number %d is %j', (name, n, expected) => {
    expect(numberedName(name, n)).toBe(expected);
  });
});
