import { xml } from '@xmpp/client';
import { describe, expect, it } from 'vitest';
import { NS_BOOKMARKS, readConference } from './bookmarks.js';
import { capsVersion } from './caps.js';
import { NS_PUBSUB_EVENT, readEvent } from './pubsub.js';

describe('bookmarks (XEP-0402, XEP-0048)', () => {
  it('reads a conference: name, autojoin as "true" or "1", nick, password', () => {
    const mark = readConference('Room@Conference.Example.org', xml('conference', { xmlns: NS_BOOKMARKS, name: 'The room', autojoin: '1' }, xml('nick', {}, ' ally '), xml('password', {}, 'pw')));
    expect(mark).toMatchObject({ jid: 'room@conference.example.org', name: 'The room', autojoin: true, nick: 'ally', password: 'pw' });
    expect(readConference('r@muc', xml('conference', { autojoin: 'yes' }))?.autojoin).toBe(false);
    expect(readConference('r@muc', xml('conference', { name: '  ' }))?.name).toBeUndefined();
  });

  it('refuses what is not a room: no JID, a full JID, a domain, another element', () => {
    expect(readConference(undefined, xml('conference'))).toBeUndefined();
    expect(readConference('room@muc/nick', xml('conference'))).toBeUndefined();
    expect(readConference('muc.example.org', xml('conference'))).toBeUndefined();
    expect(readConference('not a jid@@', xml('conference'))).toBeUndefined();
    expect(readConference('room@muc', xml('url'))).toBeUndefined();
    expect(readConference('room@muc', undefined)).toBeUndefined();
  });
});

describe('PEP notifications (XEP-0163)', () => {
  const own = (from: string) => from === 'alice@example.org';
  const event = (from: string | undefined, ...children: ReturnType<typeof xml>[]) => xml('message', from === undefined ? {} : { from }, xml('event', { xmlns: NS_PUBSUB_EVENT }, ...children));

  it('reads published and retracted items, purge and delete', () => {
    const read = readEvent(event('alice@example.org', xml('items', { node: 'n' }, xml('item', { id: 'a' }, xml('conference')), xml('retract', { id: 'b' }))), own);
    expect(read).toMatchObject({ node: 'n', kind: 'items', retracted: ['b'] });
    expect(read?.kind === 'items' ? read.published.map((p) => [p.id, p.payload?.name]) : []).toEqual([['a', 'conference']]);
    expect(readEvent(event('alice@example.org', xml('purge', { node: 'n' })), own)).toEqual({ node: 'n', kind: 'purge' });
    expect(readEvent(event('alice@example.org', xml('delete', { node: 'n' })), own)).toEqual({ node: 'n', kind: 'delete' });
  });

  it('ignores a notification from anyone else, from a full JID, without a sender or without a node', () => {
    const items = () => xml('items', { node: 'n' }, xml('item', { id: 'a' }));
    expect(readEvent(event('mallory@example.org', items()), own)).toBeUndefined();
    expect(readEvent(event('alice@example.org/phone', items()), own)).toBeUndefined();
    expect(readEvent(event(undefined, items()), own)).toBeUndefined();
    expect(readEvent(event('alice@example.org', xml('items')), own)).toBeUndefined();
    expect(readEvent(xml('message', { from: 'alice@example.org' }, xml('body', {}, 'hi')), own)).toBeUndefined();
  });
});

describe('entity capabilities (XEP-0115)', () => {
  it('computes the verification string of the specification\'s simple example (§5.2)', () => {
    const features = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc'];
    expect(capsVersion([{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }], features)).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
});
