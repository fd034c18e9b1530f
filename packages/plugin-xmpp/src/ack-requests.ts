import { xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { StreamManagementState } from './resumption.js';

const NS_SM = 'urn:xmpp:sm:3';
/** The longest a stanza we sent stays without an acknowledgement request. */
export const ACK_REQUEST_DELAY_MS = 250;

/**
 * Asks the server to acknowledge (XEP-0198 §4 `<r/>`) at most
 * `ACK_REQUEST_DELAY_MS` after a stanza went out, however busy the stream.
 *
 * @xmpp/client 0.14 debounces its own request: every stanza sent restarts
 * the wait, so while messages keep going out faster than that, it never
 * asks, and the queue of unacknowledged stanzas grows without bound. If the
 * server then restarts, every one of them must be sent again (the receiver
 * gets duplicates of all the server did deliver) or is lost. A request on a
 * fixed delay keeps the queue to what is really in flight.
 */
export function requestAcksWhileBusy(xmpp: Client, sm: StreamManagementState & { enabled?: boolean }, delayMs = ACK_REQUEST_DELAY_MS): void {
  let timer: NodeJS.Timeout | undefined;
  xmpp.on('send', (element: Element) => {
    if (timer !== undefined || sm.enabled !== true) return;
    if (!['message', 'presence', 'iq'].includes(element.name)) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (sm.enabled === true && sm.outbound_q.length > 0) xmpp.send(xml('r', { xmlns: NS_SM })).catch(() => {});
    }, delayMs);
  });
  xmpp.on('disconnect', () => {
    clearTimeout(timer);
    timer = undefined;
  });
}
