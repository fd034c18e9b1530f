import type { FileChecksum } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { NS_HASHES } from './namespaces.js';

/** Hash function names (XEP-0300 §4) whose digests Node computes, strongest first. */
const KNOWN = ['sha-512', 'sha-256', 'sha-1'];

/**
 * The checksum a `<file/>` carries (XEP-0300 `<hash algo='…'>base64</hash>`),
 * the strongest one known, in the core's form (hex). A digest that is not
 * base64 of the algorithm's length is ignored, as if absent.
 */
export function readChecksum(file: Element | undefined): FileChecksum | undefined {
  const hashes = (file?.getChildren('hash', NS_HASHES) ?? [])
    .map((h) => ({ algorithm: String(h.attrs.algo ?? '').toLowerCase(), text: h.getText().trim() }))
    .filter((h) => KNOWN.includes(h.algorithm) && /^[A-Za-z0-9+/]+={0,2}$/.test(h.text));
  hashes.sort((a, b) => KNOWN.indexOf(a.algorithm) - KNOWN.indexOf(b.algorithm));
  for (const h of hashes) {
    const bytes = Buffer.from(h.text, 'base64');
    const expected = h.algorithm === 'sha-512' ? 64 : h.algorithm === 'sha-256' ? 32 : 20;
    if (bytes.length === expected) return { algorithm: h.algorithm, hex: bytes.toString('hex') };
  }
  return undefined;
}

export function hashElement(algorithm: string, digest: Buffer): Element {
  return xml('hash', { xmlns: NS_HASHES, algo: algorithm }, digest.toString('base64'));
}
