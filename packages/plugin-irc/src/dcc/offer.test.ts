import { describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/core';
import { buildDcc, decodeAddress, encodeAddress, parseDcc, quoteName } from './offer.js';
import { canonicalAddress, isIPv6 } from './ip.js';

const malformed = (body: string) => {
  let error: unknown;
  try {
    parseDcc(body);
  } catch (e) {
    error = e;
  }
  expect(isParleyError(error, 'irc-dcc-malformed'), `${JSON.stringify(body)} should be refused`).toBe(true);
};

describe('DCC requests (CTCP DCC SEND, RESUME, ACCEPT)', () => {
  it('reads a SEND with an IPv4 number, a quoted name with spaces, and a passive one with a token', () => {
    expect(parseDcc('DCC SEND report.pdf 2130706433 5000 1024')).toEqual({ type: 'SEND', name: 'report.pdf', address: '127.0.0.1', port: 5000, size: 1024 });
    expect(parseDcc('DCC SEND "my holiday photo.jpg" 3232235777 1234 99')).toMatchObject({ name: 'my holiday photo.jpg', address: '192.168.1.1' });
    expect(parseDcc('DCC SEND "x.bin" 2130706433 0 7 42')).toMatchObject({ port: 0, token: '42' });
    expect(parseDcc('DCC SEND a.txt ::1 6000 3')).toMatchObject({ address: '::1' });
    expect(parseDcc('DCC SEND a.txt 2001:DB8::0:1 6000 3')).toMatchObject({ address: '2001:db8::1' });
    expect(parseDcc('DCC SEND a.txt 127.0.0.1 6000 3')).toMatchObject({ address: '127.0.0.1' });
    // Extra spaces, as some clients write them.
    expect(parseDcc('DCC SEND  a.txt   2130706433  6000  3 ')).toMatchObject({ name: 'a.txt', port: 6000, size: 3 });
  });

  it('reads RESUME and ACCEPT, passive ones with their token', () => {
    expect(parseDcc('DCC RESUME file.bin 5000 4096')).toEqual({ type: 'RESUME', name: 'file.bin', port: 5000, position: 4096 });
    expect(parseDcc('DCC ACCEPT "a b.bin" 0 10 77')).toEqual({ type: 'ACCEPT', name: 'a b.bin', port: 0, position: 10, token: '77' });
  });

  it('keeps a hostile name as the peer wrote it (the core makes a safe file name), but refuses control characters', () => {
    expect(parseDcc('DCC SEND ../../etc/passwd 2130706433 5000 1')).toMatchObject({ name: '../../etc/passwd' });
    expect(parseDcc('DCC SEND "/etc/shadow" 2130706433 5000 1')).toMatchObject({ name: '/etc/shadow' });
    malformed('DCC SEND "a\0b" 2130706433 5000 1');
    malformed('DCC SEND "a\x1bb" 2130706433 5000 1');
    malformed(`DCC SEND ${'a'.repeat(256)} 2130706433 5000 1`);
  });

  it('reads a 10 TiB size exactly (refusing it is the size limit\'s job), and refuses sizes past exact integers', () => {
    expect(parseDcc('DCC SEND big.iso 2130706433 5000 10995116277760')).toMatchObject({ size: 10 * 2 ** 40 });
    malformed('DCC SEND big.iso 2130706433 5000 99999999999999999999');
  });

  it.each([
    ['no arguments', 'DCC SEND'],
    ['only a name', 'DCC SEND a.txt'],
    ['no size', 'DCC SEND a.txt 2130706433 5000'],
    ['too many arguments', 'DCC SEND a.txt 2130706433 5000 1 2 3'],
    ['an unclosed quote', 'DCC SEND "a.txt 2130706433 5000 1'],
    ['a quote running into the address', 'DCC SEND "a"2130706433 5000 1'],
    ['an empty quoted name', 'DCC SEND "" 2130706433 5000 1'],
    ['an address past 32 bits', 'DCC SEND a 4294967296 5000 1'],
    ['an address that is a name', 'DCC SEND a evil.example 5000 1'],
    ['a bad dotted address', 'DCC SEND a 256.1.1.1 5000 1'],
    ['a port past 65535', 'DCC SEND a 2130706433 65536 1'],
    ['a negative port', 'DCC SEND a 2130706433 -1 1'],
    ['a negative size', 'DCC SEND a 2130706433 5000 -5'],
    ['a size with a unit', 'DCC SEND a 2130706433 5000 10G'],
    ['a hexadecimal size', 'DCC SEND a 2130706433 5000 0x10'],
    ['port 0 without a token', 'DCC SEND a 2130706433 0 5'],
    ['a token with odd characters', 'DCC SEND a 2130706433 0 5 $(rm)'],
    ['RESUME without a position', 'DCC RESUME a 5000'],
    ['ACCEPT with a word as position', 'DCC ACCEPT a 5000 start'],
  ])('refuses %s', (_what, body) => malformed(body));

  it('leaves other DCC types (CHAT) and other CTCP alone', () => {
    expect(parseDcc('DCC CHAT chat 2130706433 5000')).toBeUndefined();
    expect(parseDcc('VERSION')).toBeUndefined();
    expect(parseDcc('DCCSEND a 1 2 3')).toBeUndefined();
  });

  it('writes a SEND that reads back the same, IPv4 as a number, IPv6 as text', () => {
    const send = { type: 'SEND', name: 'my file.txt', address: '127.0.0.1', port: 40000, size: 12345, token: '9' } as const;
    expect(buildDcc(send)).toBe('DCC SEND "my file.txt" 2130706433 40000 12345 9');
    expect(parseDcc(buildDcc(send))).toEqual(send);
    expect(buildDcc({ type: 'SEND', name: 'a', address: '::ffff:10.0.0.1', port: 1, size: 2 })).toBe('DCC SEND a 167772161 1 2');
    expect(buildDcc({ type: 'SEND', name: 'a', address: 'fe80::1', port: 1, size: 2 })).toBe('DCC SEND a fe80::1 1 2');
    expect(buildDcc({ type: 'RESUME', name: 'a', port: 1, position: 5 })).toBe('DCC RESUME a 1 5');
  });

  it('never lets a file name inject an IRC line or end the CTCP message', () => {
    const body = buildDcc({ type: 'SEND', name: 'x\r\nQUIT :bye\0\x01"y".txt', address: '127.0.0.1', port: 1, size: 2 });
    expect(body).not.toMatch(/[\r\n\0\x01]/);
    expect(parseDcc(body)).toMatchObject({ name: 'x__QUIT :bye___y_.txt' });
    expect(quoteName(':x')).toBe('":x"');
    expect(() => quoteName('')).toThrow();
  });

  it('converts addresses both ways and compares their spellings', () => {
    expect(decodeAddress('0')).toBe('0.0.0.0');
    expect(decodeAddress('4294967295')).toBe('255.255.255.255');
    expect(encodeAddress('255.255.255.255')).toBe('4294967295');
    expect(() => encodeAddress('example.org')).toThrow();
    expect(canonicalAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('2001:0db8:0000::1')).toBe('2001:db8::1');
    expect(canonicalAddress('host.example')).toBeUndefined();
    expect(isIPv6('1::2::3')).toBe(false);
    expect(isIPv6('[::1]')).toBe(false);
  });

  it('survives random requests: each is read into a well-formed request, ignored, or refused with its code, and what it reads writes back the same', () => {
    const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const types = ['SEND', 'SEND', 'RESUME', 'ACCEPT', 'CHAT', 'send', ''];
    const names = ['x.bin', '"a b.txt"', '../up', '"/abs"', '"', '""', '"unclosed', 'é.txt', 'a\x01b', ':colon', 'a\tb', '"q"q"'];
    const numbers = ['0', '1', '5000', '65535', '65536', '2130706433', '4294967296', '::1', '1.2.3.4', '99999999999999999999', '-1', '0x10', '', 'word'];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let read = 0;
    for (let i = 0; i < 3000; i++) {
      const count = Math.floor(random() * 6);
      const body = `DCC ${pick(types)} ${pick(names)}${Array.from({ length: count }, () => ` ${pick(numbers)}`).join('')}${random() < 0.2 ? '  ' : ''}`;
      let request;
      try {
        request = parseDcc(body);
      } catch (error) {
        expect(isParleyError(error, 'irc-dcc-malformed'), JSON.stringify(body)).toBe(true);
        continue;
      }
      if (request === undefined) continue;
      read++;
      expect(request.name.length).toBeGreaterThan(0);
      expect(request.name).not.toMatch(/[\x00-\x1f]/);
      if (request.type === 'SEND') {
        expect(Number.isSafeInteger(request.size)).toBe(true);
        expect(request.port).toBeLessThanOrEqual(65535);
      }
      const again = parseDcc(buildDcc(request));
      expect(again?.type).toBe(request.type);
    }
    expect(read).toBeGreaterThan(10);
  });
});
