import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { NS_AVATAR_METADATA, NS_VCARD_UPDATE, decodeBase64, readMetadata, readPhotoHash } from './avatars.js';

const HASH = '7ec98c8434912092cd7a56a6cce4b14b1cc61074';

describe('XEP-0084 metadata', () => {
  const metadata = (...infos: Array<Record<string, string>>) => xml('metadata', { xmlns: NS_AVATAR_METADATA }, ...infos.map((i) => xml('info', i)));

  it('reads the announced picture, preferring the PNG one with data over one only at a URL', () => {
    expect(readMetadata(metadata({ id: HASH.toUpperCase(), bytes: '12', type: 'image/png' }))).toEqual({ id: HASH, bytes: 12, type: 'image/png' });
    const other = 'a'.repeat(40);
    expect(readMetadata(metadata({ id: other, type: 'image/jpeg' }, { id: HASH, type: 'image/png', url: 'https://example.org/a.png' }, { id: HASH, type: 'image/png' }))?.id).toBe(HASH);
    expect(readMetadata(metadata({ id: other, type: 'image/jpeg', bytes: 'many' }))).toEqual({ id: other, bytes: undefined, type: 'image/jpeg' });
  });

  it('says null for a switched-off avatar and undefined for what it cannot read', () => {
    expect(readMetadata(metadata())).toBeNull();
    expect(readMetadata(metadata({ id: 'not-a-sha1' }))).toBeUndefined();
    expect(readMetadata(metadata({ bytes: '1' }))).toBeUndefined();
    expect(readMetadata(xml('metadata', { xmlns: 'urn:other' }, xml('info', { id: HASH })))).toBeUndefined();
    expect(readMetadata(undefined)).toBeUndefined();
  });
});

describe('XEP-0153 presence hash', () => {
  const presence = (...children: ReturnType<typeof xml>[]) => xml('presence', {}, ...children);
  it('reads a hash, an empty photo (no picture), and nothing when the client is not ready or the hash is junk', () => {
    expect(readPhotoHash(presence(xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', {}, ` ${HASH.toUpperCase()} `))))).toBe(HASH);
    expect(readPhotoHash(presence(xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo'))))).toBe('');
    expect(readPhotoHash(presence(xml('x', { xmlns: NS_VCARD_UPDATE })))).toBeUndefined();
    expect(readPhotoHash(presence(xml('x', { xmlns: NS_VCARD_UPDATE }, xml('photo', {}, '../../etc/passwd'))))).toBeUndefined();
    expect(readPhotoHash(presence())).toBeUndefined();
  });
});

describe('avatar base64', () => {
  it('decodes strict base64, folded lines included, and refuses junk or more than the limit before decoding', () => {
    expect(decodeBase64('aGVs\nbG8=')?.toString()).toBe('hello');
    expect(decodeBase64('aGVsbG8')).toBeUndefined();
    expect(decodeBase64('aGV*bG8=')).toBeUndefined();
    expect(decodeBase64('<html>==')).toBeUndefined();
    expect(decodeBase64('A'.repeat(8), 3)).toBeUndefined();
    expect(decodeBase64('AAAA', 3)?.length).toBe(3);
  });
});
