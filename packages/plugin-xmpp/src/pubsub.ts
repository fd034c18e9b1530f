import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';

/** XEP-0060 Publish-Subscribe, as the account's own PEP service (XEP-0163) uses it. */
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
const NS_DATA = 'jabber:x:data';

/** `<pubsub><items node=…/></pubsub>`: every item of a node (§6.5.2). */
export function itemsRequest(node: string, itemId?: string): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node }, ...(itemId === undefined ? [] : [xml('item', { id: itemId })])));
}

/** Publishes one item (§7.1) with publish options (§7.1.5) so the node is created as the feature wants it. */
export function publishRequest(node: string, id: string, payload: Element, options: Record<string, string>): Element {
  const fields = [
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#publish-options`)),
    ...Object.entries(options).map(([name, value]) => xml('field', { var: `pubsub#${name}` }, xml('value', {}, value))),
  ];
  return xml(
    'pubsub',
    { xmlns: NS_PUBSUB },
    xml('publish', { node }, xml('item', { id }, payload)),
    ...(Object.keys(options).length === 0 ? [] : [xml('publish-options', {}, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields))]),
  );
}

/** Removes one item and tells the subscribers (§7.2). */
export function retractRequest(node: string, id: string): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB }, xml('retract', { node, notify: 'true' }, xml('item', { id })));
}

/** What a notification (§7.1.2.1, §7.2.2.1, §8.5) says happened to a node. */
export type PubsubEvent =
  | { node: string; kind: 'items'; published: Array<{ id: string | undefined; payload: Element | undefined }>; retracted: string[] }
  | { node: string; kind: 'purge' | 'delete' };

/**
 * Reads a PEP notification. Undefined when the message carries none, or
 * when it comes from anyone but `trusted` (a bare JID: our own account for
 * our PEP nodes, a contact for theirs), which a forged one would not.
 */
export function readEvent(stanza: Element, trusted: (from: string) => boolean): PubsubEvent | undefined {
  const event = stanza.getChild('event', NS_PUBSUB_EVENT);
  if (event === undefined) return undefined;
  const from = parseAddress(stanza.attrs.from as string | undefined);
  if (from === undefined || from.resource !== '' || !trusted(from.bare)) return undefined;
  const items = event.getChild('items');
  if (items !== undefined && typeof items.attrs.node === 'string') {
    return {
      node: items.attrs.node,
      kind: 'items',
      published: items.getChildren('item').map((item) => ({ id: typeof item.attrs.id === 'string' ? item.attrs.id : undefined, payload: item.getChildElements()[0] })),
      retracted: items
        .getChildren('retract')
        .map((r) => r.attrs.id)
        .filter((id): id is string => typeof id === 'string'),
    };
  }
  for (const kind of ['purge', 'delete'] as const) {
    const child = event.getChild(kind);
    if (child !== undefined && typeof child.attrs.node === 'string') return { node: child.attrs.node, kind };
  }
  return undefined;
}
