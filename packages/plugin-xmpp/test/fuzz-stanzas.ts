/**
 * Generators of stanzas a hostile server, room or peer could send an XMPP
 * account (alice@localhost/fuzz): messages and carbons, presence (also from
 * a MUC room), roster pushes, IQs; well-formed XML with hostile structure
 * and values (a stream with malformed XML ends by definition, RFC 6120
 * §4.9.3.13, so that is not what is fuzzed here).
 */
import { xml } from '@xmpp/client';
import { fc, hostileString, xmlSafe } from '../../../test/helpers/fuzz.js';

export const ROOM = 'fuzz@conference.localhost';
export const OWN_FULL = 'alice@localhost/fuzz';

const text = hostileString(200).map(xmlSafe);
const attrText = hostileString(40, false).map(xmlSafe);
const jid = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('bob@localhost/raw', 'bob@localhost', 'alice@localhost', OWN_FULL, 'localhost', ROOM, `${ROOM}/bob`, `${ROOM}/alice`, `${ROOM}/mallory`, 'conference.localhost', 'stranger@elsewhere.example/x') },
  { weight: 1, arbitrary: fc.constantFrom('', '@', '/', 'a@b/c/d', '@localhost', 'alice@', `${'x'.repeat(1100)}@localhost`, 'ALICE@LOCALHOST/Fuzz', 'bob@localhost/\u0000') },
  { weight: 1, arbitrary: attrText },
).map(xmlSafe);

/** Attributes, each present or not. */
function attrs(shape: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<Record<string, string>> {
  return fc.record(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}

const delay = attrs({ stamp: fc.oneof(fc.constantFrom('2020-01-02T03:04:05Z', '2020-01-02T03:04:05.123+02:00', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 'yesterday', ''), attrText), from: jid }).map((a) => xml('delay', { xmlns: 'urn:xmpp:delay', ...a }));
const mucItem = attrs({
  affiliation: fc.oneof(fc.constantFrom('owner', 'admin', 'member', 'none', 'outcast'), attrText),
  role: fc.oneof(fc.constantFrom('moderator', 'participant', 'visitor', 'none'), attrText),
  jid,
  nick: attrText,
}).map((a) => xml('item', a));
const mucX = fc
  .tuple(fc.array(mucItem, { maxLength: 2 }), fc.array(fc.oneof(fc.constantFrom('100', '110', '170', '201', '210', '301', '303', '307', '321', '322', '332'), attrText), { maxLength: 4 }))
  .map(([items, codes]) => xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, ...items, ...codes.map((code) => xml('status', { code }))));
const misc = fc.oneof(
  fc.constantFrom(
    xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }),
    xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' }),
    xml('paused', { xmlns: 'http://jabber.org/protocol/chatstates' }),
    xml('request', { xmlns: 'urn:xmpp:receipts' }),
    xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' }),
    xml('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' }, xml('body', { xmlns: 'http://www.w3.org/1999/xhtml' }, xml('script', {}, 'x'))),
    xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
    xml('x', { xmlns: 'jabber:x:conference', jid: ROOM }),
    xml('unknown', { xmlns: 'urn:example:nothing' }, xml('deep', {}, xml('deeper'))),
  ),
  attrText.map((id) => xml('received', { xmlns: 'urn:xmpp:receipts', id })),
  text.map((t) => xml('thread', {}, t)),
  text.map((t) => xml('subject', {}, t)),
  fc.tuple(fc.constantFrom('body', 'subject', 'show', 'status', 'priority', 'x', 'query', 'forwarded', 'sent', 'received'), fc.constantFrom('', 'jabber:client', 'urn:xmpp:carbons:2', 'urn:xmpp:forward:0', 'http://jabber.org/protocol/muc#user', 'jabber:iq:roster'), text).map(([name, ns, t]) =>
    xml(name, ns === '' ? {} : { xmlns: ns }, t),
  ),
);

const messageType = fc.option(fc.oneof(fc.constantFrom('chat', 'normal', 'groupchat', 'headline', 'error'), attrText), { nil: undefined });
/** A message, and carbons (XEP-0280) wrapping one: the generator nests once. */
const innerMessage = fc
  .record({ type: messageType, from: jid, to: jid, id: fc.option(attrText, { nil: undefined }), body: fc.option(text, { nil: undefined }), extra: fc.array(fc.oneof(misc, delay, mucX), { maxLength: 3 }) })
  .map(({ type, from, to, id, body, extra }) =>
    xml('message', { ...(type === undefined ? {} : { type }), ...(from === '' ? {} : { from }), to, ...(id === undefined ? {} : { id }) }, ...(body === undefined ? [] : [xml('body', {}, body)]), ...extra),
  );
const carbon = fc
  .tuple(fc.constantFrom('sent', 'received', 'private'), fc.array(innerMessage, { maxLength: 2 }), fc.option(delay, { nil: undefined }), fc.boolean())
  .map(([kind, inner, d, wrapped]) => {
    const forwarded = xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, ...(d === undefined ? [] : [d]), ...inner);
    return xml(kind, { xmlns: 'urn:xmpp:carbons:2' }, ...(wrapped ? [forwarded] : inner));
  });
const message = fc
  .record({ base: innerMessage, carbon: fc.option(carbon, { nil: undefined, freq: 3 }) })
  // A new element: generated values are shared between runs and must not be changed.
  .map(({ base, carbon: c }) => (c === undefined ? base : xml('message', { ...base.attrs }, ...base.children, c)));

const presence = fc
  .record({
    type: fc.option(fc.oneof(fc.constantFrom('unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error'), attrText), { nil: undefined }),
    from: jid,
    show: fc.option(fc.oneof(fc.constantFrom('away', 'chat', 'dnd', 'xa'), attrText), { nil: undefined }),
    status: fc.option(text, { nil: undefined }),
    priority: fc.option(fc.oneof(fc.constantFrom('0', '-128', '127', '128', '-1', '1e3', 'NaN', ''), attrText), { nil: undefined }),
    extra: fc.array(fc.oneof(mucX, delay, misc, attrs({ hash: attrText, node: attrText, ver: attrText }).map((a) => xml('c', { xmlns: 'http://jabber.org/protocol/caps', ...a })), attrText.map((since) => xml('idle', { xmlns: 'urn:xmpp:idle:1', since }))), { maxLength: 3 }),
  })
  .map(({ type, from, show, status, priority, extra }) =>
    xml(
      'presence',
      { ...(type === undefined ? {} : { type }), ...(from === '' ? {} : { from }), to: OWN_FULL },
      ...(show === undefined ? [] : [xml('show', {}, show)]),
      ...(status === undefined ? [] : [xml('status', {}, status)]),
      ...(priority === undefined ? [] : [xml('priority', {}, priority)]),
      ...extra,
    ),
  );

/** Roster pushes (RFC 6121 §2.1.6), from the server (no from, or our bare JID) or not. */
const rosterItem = attrs({
  jid,
  name: attrText,
  subscription: fc.oneof(fc.constantFrom('none', 'to', 'from', 'both', 'remove'), attrText),
  ask: fc.constantFrom('subscribe', 'x'),
}).chain((a) => fc.array(fc.oneof(text, fc.constant('')), { maxLength: 3 }).map((groups) => xml('item', a, ...groups.map((g) => xml('group', {}, g)))));
const rosterPush = fc
  .record({ from: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('', 'alice@localhost') }, { weight: 1, arbitrary: jid }), items: fc.array(rosterItem, { maxLength: 3 }), id: attrText })
  .map(({ from, items, id }) => xml('iq', { type: 'set', id: `push-${id}`, to: OWN_FULL, ...(from === '' ? {} : { from }) }, xml('query', { xmlns: 'jabber:iq:roster' }, ...items)));
const iq = fc
  .record({
    type: fc.oneof(fc.constantFrom('get', 'set', 'result', 'error'), attrText),
    from: jid,
    id: attrText,
    child: fc.oneof(
      fc.constantFrom(
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
        xml('ping', { xmlns: 'urn:xmpp:ping' }),
        xml('query', { xmlns: 'jabber:iq:version' }),
        xml('vCard', { xmlns: 'vcard-temp' }),
        xml('query', { xmlns: 'urn:example:unknown' }),
      ),
      misc,
    ),
  })
  .map(({ type, from, id, child }) => xml('iq', { type, id: `q-${id}`, to: OWN_FULL, ...(from === '' ? {} : { from }) }, child));

/** Any stanza the account could be sent. */
export const stanza = fc.oneof({ weight: 4, arbitrary: message }, { weight: 3, arbitrary: presence }, { weight: 2, arbitrary: rosterPush }, { weight: 1, arbitrary: iq });
