import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

/** A deep copy, so that appending it to another element leaves the original where it was. */
export function copyElement(element: Element): Element {
  return xml(element.name, { ...element.attrs }, ...element.children.map((c) => (typeof c === 'string' ? c : copyElement(c as Element))));
}
