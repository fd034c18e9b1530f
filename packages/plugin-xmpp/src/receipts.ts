import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

/** XEP-0184 Message Delivery Receipts. */
export const NS_RECEIPTS = 'urn:xmpp:receipts';

export function receiptRequest(): Element {
  return xml('request', { xmlns: NS_RECEIPTS });
}

/** The id a <received/> acknowledges, if this message is a receipt. */
export function receivedId(message: Element): string | undefined {
  const received = message.getChild('received', NS_RECEIPTS);
  const id = received?.attrs.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The receipt to send for a message that asked for one, or undefined.
 * §5.4: not for groupchat or error messages, and only with an id to echo.
 */
export function receiptFor(message: Element): Element | undefined {
  if (message.getChild('request', NS_RECEIPTS) === undefined) return undefined;
  const { id, from, type } = message.attrs as Record<string, string | undefined>;
  if (id === undefined || id === '' || from === undefined || type === 'groupchat' || type === 'error') return undefined;
  return xml('message', { to: from, id: `r-${id}`.slice(0, 200) }, xml('received', { xmlns: NS_RECEIPTS, id }));
}
