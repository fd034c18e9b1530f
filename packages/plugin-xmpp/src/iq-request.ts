import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

/** The part of @xmpp/iq's caller this uses; `handlers` holds each pending request's answer by stanza id. */
export interface IqCaller {
  request(stanza: Element, timeout?: number): Promise<Element>;
  handlers?: Map<string, { promise: Promise<unknown> }>;
}

/**
 * An IQ request (RFC 6120 §8.2.3) through the library's caller, answered with
 * the result's child of the same name and namespace as `child`.
 *
 * The caller rejects a request's pending answer as soon as an error reply is
 * read, but starts waiting on it only once its own write of the request has
 * completed. A reply read first (the socket busy, TLS writes queued behind a
 * burst of messages) left that rejection without a handler for a moment:
 * Node reported an unhandled rejection (a roster removal answered
 * item-not-found, say), and a plugin in a worker thread is restarted for one.
 * Marking the answer handled here changes nothing else: the request still
 * rejects with the server's error.
 */
export function requestIq(caller: IqCaller, type: 'get' | 'set', child: Element, to?: string, timeoutMs?: number): Promise<Element | undefined> {
  return requestIqReply(caller, type, child, to, timeoutMs).then((reply) => reply.getChild(child.name, child.attrs.xmlns as string | undefined));
}

/** The same, resolved with the whole result stanza (for replies whose child differs from the request's: XEP-0363's slot). */
export function requestIqReply(caller: IqCaller, type: 'get' | 'set', child: Element, to?: string, timeoutMs?: number): Promise<Element> {
  const stanza = xml('iq', to === undefined ? { type } : { type, to }, child);
  const answer = caller.request(stanza, timeoutMs);
  // request() gives the stanza its id and registers the answer before its first await.
  const id = stanza.attrs.id as string | undefined;
  if (id !== undefined) caller.handlers?.get(id)?.promise.catch(() => undefined);
  return answer;
}
