import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
// The caller @xmpp/client uses.
import iqCaller from '@xmpp/iq/caller.js';
import { afterEach, describe, expect, it } from 'vitest';
import { requestIq, type IqCaller } from './iq-request.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  unhandled.length = 0;
});

/**
 * The library's real IQ caller, on a connection whose write of the request
 * completes only when the test says so: the reply can be read first, as on
 * a busy socket.
 */
function slowWriter() {
  let route: ((context: { type: string; name: string; id: string; stanza: Element }, next: () => void) => void) | undefined;
  let release = () => {};
  const sent: Element[] = [];
  // Only what the caller uses of the connection: its send and its middleware.
  const connection = {
    entity: {
      send: (stanza: Element) => {
        sent.push(stanza);
        return new Promise<void>((resolve) => (release = resolve));
      },
    },
    middleware: { use: (fn: typeof route) => (route = fn) },
  };
  const caller = iqCaller(connection as unknown as Parameters<typeof iqCaller>[0]) as IqCaller;
  const reply = (stanza: Element) => route!({ type: String(stanza.attrs.type), name: stanza.name, id: String(stanza.attrs.id), stanza }, () => undefined);
  return { caller, sent, reply, release: () => release() };
}

/** One turn of the event loop: Node has decided about every rejection of the turn before. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('IQ requests (RFC 6120 §8.2.3)', () => {
  it('an error reply read before the request\'s write completes rejects the request with the server\'s condition, and nothing is left unhandled', async () => {
    process.on('unhandledRejection', onUnhandled);
    const w = slowWriter();
    const answer = requestIq(w.caller, 'set', xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'nobody@localhost', subscription: 'remove' })));
    const [request] = w.sent;
    expect(request?.attrs).toMatchObject({ type: 'set' });
    w.reply(xml('iq', { type: 'error', id: request!.attrs.id }, xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }))));
    await turn();
    await turn();
    expect(unhandled).toEqual([]);
    w.release();
    await expect(answer).rejects.toMatchObject({ condition: 'item-not-found' });
  });

  it('answers with the result\'s child of the request\'s name and namespace', async () => {
    const w = slowWriter();
    const answer = requestIq(w.caller, 'get', xml('query', { xmlns: 'jabber:iq:roster' }), 'localhost', 5_000);
    const [request] = w.sent;
    expect(request?.attrs).toMatchObject({ type: 'get', to: 'localhost' });
    w.release();
    w.reply(xml('iq', { type: 'result', id: request!.attrs.id }, xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: 'bob@localhost' }))));
    const query = await answer;
    expect(query?.getChildren('item').map((i) => i.attrs.jid)).toEqual(['bob@localhost']);
  });
});
