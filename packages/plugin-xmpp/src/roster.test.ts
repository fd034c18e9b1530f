import type { ConnectionContext, Logger, RosterEntry } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { NS_ROSTER, ROSTER_STATE_KEY, Roster, parseItem, type GroupNames } from './roster.js';
import type { Session } from './session.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as Logger;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A session whose server answers the roster get with `answer`, and whose account state is a map. */
function session(answer: () => Element | undefined, state = new Map<string, unknown>()) {
  const synced: RosterEntry[][] = [];
  const ctx = {
    getState: (key: string) => state.get(key),
    setState: (key: string, value: unknown) => state.set(key, value),
    buddies: { sync: (entries: RosterEntry[]) => synced.push(entries), synced() {} },
  } as unknown as ConnectionContext;
  const s: Session = {
    ctx,
    log: quiet,
    send: async () => {},
    iqGet: async () => answer(),
    iqSet: async () => undefined,
    iqReply: async () => xml('iq'),
    ownJid: () => ({ full: 'alice@example.org/r', bare: 'alice@example.org', domain: 'example.org', local: 'alice' }),
  };
  return { session: s, state, synced };
}

/** What the core reads of an entry (the items handed over are the plugin's own, with more in them). */
const asEntry = ({ name, alias, groups }: RosterEntry): RosterEntry => ({ name, ...(alias === undefined ? {} : { alias }), ...(groups === undefined || groups.length === 0 ? {} : { groups: [...groups] }) });

const roster = (ver: string) =>
  xml('query', { xmlns: NS_ROSTER, ver }, xml('item', { jid: 'bob@example.net', name: 'Bob', subscription: 'both' }, xml('group', {}, 'Friends')), xml('item', { jid: 'carol@example.net', ask: 'subscribe' }, xml('group', {}, 'Friends'), xml('group', {}, 'Work')));

describe('Roster', () => {
  it('writes the roster of a sign-in only once its writes are released, as one JSON text, and reads it back at the next sign-in', async () => {
    const first = session(() => roster('v1'));
    const r = new Roster(first.session);
    r.versioning = true;
    r.holdWrites();
    await r.fetch();
    await nextTurn();
    expect(first.state.has(ROSTER_STATE_KEY)).toBe(false);
    r.releaseWrites();
    await nextTurn();
    const kept = first.state.get(ROSTER_STATE_KEY);
    expect(typeof kept).toBe('string');
    expect(JSON.parse(kept as string)).toEqual({ ver: 'v1', items: [['bob@example.net', 'Bob', ['Friends'], 'both', false], ['carol@example.net', null, ['Friends', 'Work'], 'none', true]] });

    // The server says nothing changed: the kept roster is the buddy list.
    const second = session(() => undefined, first.state);
    const again = new Roster(second.session);
    again.versioning = true;
    await again.fetch();
    expect(second.synced[0]?.map(asEntry)).toEqual([{ name: 'bob@example.net', alias: 'Bob', groups: ['Friends'] }, { name: 'carol@example.net', groups: ['Friends', 'Work'] }]);
    expect(again.items.get('carol@example.net')?.ask).toBe(true);
  });

  it('still reads a roster kept by earlier versions as an object, and ignores a damaged one', async () => {
    const old = { ver: 'v7', items: [['dave@example.net', null, ['Work'], 'to', false]] };
    const kept = session(() => undefined, new Map<string, unknown>([[ROSTER_STATE_KEY, old]]));
    const r = new Roster(kept.session);
    r.versioning = true;
    await r.fetch();
    expect(kept.synced[0]?.map(asEntry)).toEqual([{ name: 'dave@example.net', groups: ['Work'] }]);

    // Text that is not JSON counts as no kept roster: the version asked for is '' and the server sends the whole roster.
    let asked: string | undefined;
    const damaged = session(() => roster('v2'), new Map<string, unknown>([[ROSTER_STATE_KEY, '{"ver":']]));
    damaged.session.iqGet = async (query: Element) => {
      asked = query.attrs.ver as string;
      return roster('v2');
    };
    const d = new Roster(damaged.session);
    d.versioning = true;
    await d.fetch();
    expect(asked).toBe('');
    expect(damaged.synced[0]).toHaveLength(2);
  });

  it('gives the contacts of one roster in the same single group one list for it, and one string for each group name', () => {
    const names: GroupNames = new Map();
    const a = parseItem(xml('item', { jid: 'a@example.net' }, xml('group', {}, 'Friends')), names);
    const b = parseItem(xml('item', { jid: 'b@example.net' }, xml('group', {}, ' Friends ')), names);
    const c = parseItem(xml('item', { jid: 'c@example.net' }, xml('group', {}, 'Work'), xml('group', {}, 'Friends')), names);
    expect(a?.groups).toEqual(['Friends']);
    expect(b?.groups).toBe(a?.groups);
    expect(c?.groups).toEqual(['Work', 'Friends']);
    expect(c?.groups[1]).toBe(a?.groups[0]);
    expect([...names.keys()]).toEqual(['Friends', 'Work']);
  });
});
