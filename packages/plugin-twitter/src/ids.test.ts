import { describe, expect, it } from 'vitest';
import { compareIds, isId, newestId, normalizeHandle, parsePostRef } from './ids.js';

describe('ids', () => {
  it('orders snowflakes numerically, across digit counts', () => {
    expect(compareIds('999', '1000')).toBe(-1);
    expect(compareIds('1800000000000000001', '1800000000000000000')).toBe(1);
    expect(newestId(['999', '1000', '998'])).toBe('1000');
  });

  it('rejects ids that are not 64-bit decimal strings', () => {
    for (const bad of ['', '12a', '-1', '1'.repeat(20), '99999999999999999999', ' 12', '1e5', '0x10']) expect(isId(bad)).toBe(false);
    expect(isId(12 as unknown)).toBe(false);
    expect(isId('18446744073709551615')).toBe(false); // 20 digits
    expect(isId('9223372036854775807')).toBe(true);
  });

  it('reads a post id from an id or a post link, and nothing else', () => {
    expect(parsePostRef('1800000000000000123')).toBe('1800000000000000123');
    expect(parsePostRef('https://x.com/bob/status/123')).toBe('123');
    expect(parsePostRef('https://twitter.com/bob/status/123/')).toBe('123');
    expect(parsePostRef('https://mobile.twitter.com/i/web/status/77')).toBe('77');
    expect(parsePostRef('https://evil.example/bob/status/123')).toBeUndefined();
    expect(parsePostRef('javascript:alert(1)')).toBeUndefined();
    expect(parsePostRef('https://x.com/bob/status/12x')).toBeUndefined();
    expect(parsePostRef('hello')).toBeUndefined();
  });

  it('normalizes handles', () => {
    expect(normalizeHandle('@Bob_1')).toBe('Bob_1');
    expect(normalizeHandle('bob/../x')).toBeUndefined();
    expect(normalizeHandle('')).toBeUndefined();
  });
});
