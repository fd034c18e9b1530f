import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isParleyError } from '../errors/ParleyError.js';
import { BuddyList } from './buddy-list.js';
import { IconCache, MAX_ICON_BYTES, iconHash, sniffImageType } from './icons.js';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);

describe('buddy icons', () => {
  it('tells the image type by the bytes only', () => {
    expect(sniffImageType(PNG)).toBe('image/png');
    expect(sniffImageType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(new TextEncoder().encode('GIF89a....'))).toBe('image/gif');
    expect(sniffImageType(new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(new TextEncoder().encode('<html><script>alert(1)</script></html>'))).toBeUndefined();
    expect(sniffImageType(new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WAVE'))).toBeUndefined();
    expect(sniffImageType(new Uint8Array(0))).toBeUndefined();
    expect(sniffImageType(PNG.subarray(0, 7))).toBeUndefined();
  });

  it('stores a picture once by its SHA-1, and refuses one too large or not an image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-icons-'));
    const cache = new IconCache(dir);
    const icon = cache.store(PNG);
    expect(icon).toEqual({ hash: iconHash(PNG), type: 'image/png', path: join(dir, `${iconHash(PNG)}.png`) });
    expect(Buffer.from(readFileSync(icon.path)).equals(Buffer.from(PNG))).toBe(true);
    cache.store(PNG);
    expect(readdirSync(dir)).toEqual([`${iconHash(PNG)}.png`]);
    const huge = new Uint8Array(MAX_ICON_BYTES + 1);
    huge.set(PNG);
    expect(() => cache.store(huge)).toThrow(expect.objectContaining({ code: 'icon-too-large' }));
    let refused: unknown;
    try {
      cache.store(new TextEncoder().encode('<html></html>'));
    } catch (error) {
      refused = error;
    }
    expect(isParleyError(refused, 'icon-not-an-image')).toBe(true);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('keeps a buddy\'s icon across a restart while its file is cached', async () => {
    const home = mkdtempSync(join(tmpdir(), 'parley-icons-home-'));
    const list = new BuddyList(home);
    list.upsert('a', { name: 'bob' });
    const icon = list.icons!.store(PNG);
    expect(list.setIcon('a', 'bob', icon)).toBe(true);
    expect(list.setIcon('a', 'bob', icon)).toBe(false);
    expect(list.setIcon('a', 'nobody', icon)).toBe(false);
    await list.save();
    expect(new BuddyList(home).find('a', 'bob')?.buddy.icon).toEqual(icon);
  });
});
