import { createHash } from 'node:crypto';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

/** XEP-0115 Entity Capabilities. */
export const NS_CAPS = 'http://jabber.org/protocol/caps';
export const CAPS_NODE = 'https://parley.im/caps';

/**
 * §5.1 verification string: identities then features, each sorted, each
 * followed by '<', hashed with SHA-1 and encoded in base64. A PEP service
 * reads our features from it (the `+notify` ones, XEP-0163 §4) to decide
 * which notifications it sends us.
 */
export function capsVersion(identities: ReadonlyArray<{ category: string; type: string; name?: string }>, features: readonly string[]): string {
  const ids = identities.map((i) => `${i.category}/${i.type}//${i.name ?? ''}`).sort();
  const text = [...ids, ...[...new Set(features)].sort()].map((s) => `${s}<`).join('');
  return createHash('sha1').update(text, 'utf8').digest('base64');
}

export function capsElement(version: string): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: version });
}
