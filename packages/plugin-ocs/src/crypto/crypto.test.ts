import { describe, expect, it } from 'vitest';
import { md4 } from './md4.js';
import { Rc4, rc4k } from './rc4.js';
import { crc32 } from './crc32.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('md4 (RFC 1320 appendix A.5 test suite)', () => {
  it.each([
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ])('md4(%j)', (input, digest) => {
    expect(hex(md4(Buffer.from(input, 'latin1')))).toBe(digest);
  });

  it('gives the [MS-NLMP] 4.2.2.1.2 NTOWFv1 of "Password"', () => {
    expect(hex(md4(Buffer.from('Password', 'utf16le')))).toBe('a4f49c406510bdcab6824ee7c30fd852');
  });
});

describe('rc4', () => {
  it('matches the classic vectors', () => {
    expect(hex(rc4k(Buffer.from('Key'), Buffer.from('Plaintext')))).toBe('bbf316e8d940af0ad3');
    expect(hex(rc4k(Buffer.from('Wiki'), Buffer.from('pedia')))).toBe('1021bf0420');
    expect(hex(rc4k(Buffer.from('Secret'), Buffer.from('Attack at dawn')))).toBe('45a01f645fc35b383552544b9bf5');
  });

  it('continues its key stream across calls', () => {
    const whole = rc4k(Buffer.from('Secret'), Buffer.from('Attack at dawn'));
    const stream = new Rc4(Buffer.from('Secret'));
    expect(hex(Buffer.concat([stream.update(Buffer.from('Attack')), stream.update(Buffer.from(' at dawn'))]))).toBe(hex(whole));
  });

  it('rejects an empty key', () => {
    expect(() => new Rc4(Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('crc32', () => {
  it('matches the check value', () => {
    expect(crc32(Buffer.from('123456789')).toString(16)).toBe('cbf43926');
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});
