import type { Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

const NS_STREAMS = 'http://etherx.jabber.org/streams';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SM = 'urn:xmpp:sm:3';

export interface FirstRequest<T> {
  /** The answer to the request sent at bind time, handed over once; undefined when the stream never bound (a resumed session). */
  answer(): Promise<T> | undefined;
  /**
   * Settles once stream management is negotiated (or refused, or never
   * offered) and the library has reset its counters: only then may stanzas
   * the server answers at once go out.
   */
  negotiated(): Promise<void>;
}

/**
 * Sends one request the moment the resource is bound and keeps the library's
 * XEP-0198 `<enable/>` back until its answer has arrived.
 *
 * Why: once stream management is on, the server keeps a copy of every stanza
 * it sends until it is acknowledged, and copying a roster of thousands of
 * items costs a server like Prosody more than building it. A request answered
 * before `<enable/>` is counted by neither side (§4: counting starts at
 * `<enable/>` and `<enabled/>`), so the counters still agree and a resumption
 * still works. The order must be strict, not merely likely: an answer that
 * the client counts after `<enabled/>` but the server sent before it makes
 * the client acknowledge more than was sent, and the server ends the stream.
 *
 * For the same reason `negotiated()` lets the caller wait before sending
 * anything the server answers right away (the initial presence): the library
 * resets its inbound counter a moment after `<enabled/>` is read, and a
 * stanza read in the same chunk would be lost from the count.
 */
export function requestBeforeStreamManagement<T>(xmpp: Client, request: () => Promise<T>): FirstRequest<T> {
  let smOffered = false;
  let answer: Promise<T> | undefined;
  // Whether the answer is in, without holding on to it.
  let answered: Promise<void> | undefined;
  let negotiated: Promise<void> = Promise.resolve();

  // Features arrive before the library binds the resource; remember whether they offer stream management.
  xmpp.on('nonza', (element: Element) => {
    if (element.is('features', NS_STREAMS) && element.getChild('bind', NS_BIND) !== undefined) {
      smOffered = element.getChild('sm', NS_SM) !== undefined;
    }
  });

  // 'online' is emitted by resource binding, synchronously, before the library asks for <enable/>.
  xmpp.once('online', () => {
    if (smOffered) negotiated = negotiation(xmpp);
    answer = request();
    answered = answer.then(ignore, ignore);
  });

  const send = xmpp.send.bind(xmpp);
  xmpp.send = async (element: Element): Promise<void> => {
    if (answered !== undefined && element.is('enable', NS_SM)) await answered;
    return send(element);
  };

  return {
    answer() {
      // Handed over once: the caller owns it from here.
      const taken = answer;
      answer = undefined;
      return taken;
    },
    negotiated: () => negotiated,
  };
}

function ignore(): void {}

/** The server's `<enabled/>` or `<failed/>` (or the end of the stream), once the library has handled it. */
function negotiation(xmpp: Client): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      xmpp.removeListener('nonza', onNonza);
      xmpp.removeListener('disconnect', done);
      // The library applies <enabled/> in a promise continuation: after it, not before.
      setImmediate(resolve);
    };
    const onNonza = (element: Element): void => {
      if (element.is('enabled', NS_SM) || element.is('failed', NS_SM)) done();
    };
    xmpp.on('nonza', onNonza);
    xmpp.on('disconnect', done);
  });
}
