import type { Logger } from '@parley/core';
import { jid, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

const STANZAS = new Set(['message', 'presence', 'iq']);

/** What the guard needs of the client and its XEP-0198 state (not in the library's published types). */
interface Guarded {
  _onElement(element: Element): void;
}
interface CountingState {
  enabled?: boolean;
  inbound: number;
}

/** Whether the library can read `value` as a JID (it throws for "@", "a@", an empty domain, ...). */
function readable(value: unknown): boolean {
  if (typeof value !== 'string' || value === '') return true;
  try {
    jid(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Skips stanzas whose `to` or `from` the library cannot read as a JID.
 *
 * @xmpp/client 0.14 builds the context of its incoming middleware from both
 * addresses with a JID parser that throws. The throw escapes from the
 * stream parser's element event, leaves the parser inside the element, and
 * the next stanza ends the session as "malformed XML": one stanza with a
 * bad address (from a server, or relayed by one) would sign the account
 * off. Such a stanza is skipped with a warning instead, and still counted
 * for stream management (XEP-0198 §4: `h` counts the stanzas handled), so
 * the server's count agrees.
 */
export function skipUnreadableAddresses(xmpp: Client, sm: CountingState, log: Logger): void {
  const client = xmpp as unknown as Guarded;
  const onElement = client._onElement.bind(xmpp);
  client._onElement = (element: Element) => {
    if (readable(element.attrs.to) && readable(element.attrs.from)) {
      onElement(element);
      return;
    }
    log.warn('Skipped a stanza with an unreadable address', { name: element.name, to: String(element.attrs.to).slice(0, 100), from: String(element.attrs.from).slice(0, 100) });
    if (sm.enabled === true && STANZAS.has(element.name)) sm.inbound += 1;
  };
}
