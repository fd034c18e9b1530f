/**
 * Typing notifications: Office Communicator's INFO with a
 * `<KeyboardActivity>` document inside an IM dialog, and the standard
 * `application/im-iscomposing+xml` (RFC 3994) that plain SIP clients send.
 */
import type { TypingState } from '@parley/core';
import { child, parseXml, textAt, XmlError } from './xml.js';

export const KEYBOARD_ACTIVITY_TYPE = 'application/xml';
export const IS_COMPOSING_TYPE = 'application/im-iscomposing+xml';

/** How long a "typing" without a refresh lasts, as Communicator refreshes about every 4 s. */
export const TYPING_TIMEOUT_MS = 6000;

export function keyboardActivity(state: TypingState): string {
  return `<?xml version="1.0"?><KeyboardActivity><status status="${state === 'typing' ? 'type' : 'idle'}" /></KeyboardActivity>`;
}

export function isComposing(state: TypingState): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">' +
    `<state>${state === 'typing' ? 'active' : 'idle'}</state><refresh>60</refresh></isComposing>`
  );
}

/** The typing state in an INFO or MESSAGE body, or undefined when it is not a typing document. */
export function parseTyping(contentType: string, body: string): TypingState | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  try {
    if (type === IS_COMPOSING_TYPE) {
      const doc = parseXml(body, { maxChars: 10_000 });
      if (doc.name !== 'isComposing') return undefined;
      return textAt(doc, 'state') === 'active' ? 'typing' : 'idle';
    }
    if (type === KEYBOARD_ACTIVITY_TYPE || type === 'text/xml') {
      const doc = parseXml(body, { maxChars: 10_000 });
      if (doc.name !== 'KeyboardActivity') return undefined;
      const status = child(doc, 'status')?.attrs.status;
      return status === 'type' ? 'typing' : 'idle';
    }
  } catch (error) {
    if (error instanceof XmlError) return undefined;
    throw error;
  }
  return undefined;
}
