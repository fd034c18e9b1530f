import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';

/** XEP-0280 Message Carbons (and the XEP-0297 wrapper it uses). */
export const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';

export function enableElement(): Element {
  return xml('enable', { xmlns: NS_CARBONS });
}

export type Carbon = { direction: 'sent' | 'received'; message: Element };

/**
 * Unwraps a carbon copy. §11 Security: a carbon is only genuine when the
 * outer message comes from our own bare JID; anyone else could forge
 * "messages we sent" this way (CVE-2017-5589), so those are refused.
 * Returns null for a carbon to refuse, undefined for a normal message.
 */
export function unwrapCarbon(stanza: Element, ownBare: string): Carbon | null | undefined {
  for (const direction of ['sent', 'received'] as const) {
    const wrapper = stanza.getChild(direction, NS_CARBONS);
    if (wrapper === undefined) continue;
    const from = parseAddress((stanza.attrs.from as string | undefined) ?? ownBare);
    if (from === undefined || from.resource !== '' || from.bare !== ownBare) return null;
    const inner = wrapper.getChild('forwarded', NS_FORWARD)?.getChild('message');
    if (inner === undefined) return null;
    return { direction, message: inner };
  }
  return undefined;
}
