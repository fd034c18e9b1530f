import type { Client } from '@xmpp/client';
import type { StreamManagementState } from './resumption.js';

/**
 * Makes the XEP-0198 count of handled stanzas ('h', §4) include every stanza.
 *
 * @xmpp/client 0.14 counts received stanzas in a middleware that runs after
 * its IQ caller and IQ callee: the answer to one of our own IQ requests, and
 * an IQ query the callee refuses as malformed, stop before it and are never
 * counted. The server then keeps those stanzas, and the ones after them, as
 * unacknowledged: it sends them again when the stream is resumed, stores the
 * messages among them as offline messages when it restarts (a message
 * delivered twice), and ends the stream once its queue is full.
 *
 * The library's middleware chain runs synchronously for every stanza, so
 * whether it counted one is known by the time the stanza event is emitted.
 */
export function countEveryStanza(xmpp: Client, sm: StreamManagementState): void {
  let before = 0;
  xmpp.prependListener('element', () => {
    before = sm.inbound;
  });
  xmpp.on('stanza', () => {
    if (sm.inbound === before) sm.inbound += 1;
  });
}
