import type { ConnectionContext, Logger, RosterEntry } from '@parley/core';
import { xml } from '@xmpp/client';
import { Parser, type Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { Roster } from './roster.js';
import { itemStreamingParser, type RosterItemReader } from './roster-stream.js';
import type { Session } from './session.js';
import type { StreamParserClass } from './starttls.js';

const HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='s1' version='1.0'>";

interface Read {
  attrs: Record<string, string>;
  groups: string[];
  query: Element;
}

/** A reader awaiting the answer `id`, recording what it is handed. */
function recorder(id: string | undefined): RosterItemReader & { read: Read[] } {
  const read: Read[] = [];
  return { awaitedId: id, read, item: (attrs, groups, count, query) => read.push({ attrs: { ...attrs }, groups: groups.slice(0, count), query }) };
}

/** The streaming parser fed `chunks` after a stream header: the top-level elements it emitted, and its errors. */
function parse(reader: RosterItemReader, chunks: string[]): { elements: Element[]; errors: Error[] } {
  const StreamingParser = itemStreamingParser(Parser as unknown as StreamParserClass, reader);
  const parser = new StreamingParser() as unknown as Parser;
  const elements: Element[] = [];
  const errors: Error[] = [];
  parser.on('element', (element: Element) => elements.push(element));
  parser.on('error', (error: Error) => errors.push(error));
  parser.write(HEADER);
  for (const chunk of chunks) parser.write(chunk);
  return { elements, errors };
}

const ANSWER =
  "<iq type='result' id='r1' to='alice@example.org/r'><query xmlns='jabber:iq:roster' ver='v9'>" +
  "<item jid='bob@example.net' name='Bob &amp; Co' subscription='both'><group>Friends</group></item>\n  " +
  "<item jid='carol@example.net' ask='subscribe'><group>Friends</group><group>Work &lt;3</group></item>" +
  "<item jid='dave@example.net'/>" +
  "<item jid='erin@example.net'><x xmlns='urn:example:extension'>ignored<group>Not a group of the item</group></x><group><![CDATA[Cd]]></group></item>" +
  '</query></iq>';

describe('itemStreamingParser', () => {
  it('hands each item of the awaited roster answer to the reader as it closes, and the library the answer without them', () => {
    const reader = recorder('r1');
    // Cut everywhere: inside a tag, an attribute, a group's text and between items.
    const chunks: string[] = [];
    for (let at = 0; at < ANSWER.length; at += 7) chunks.push(ANSWER.slice(at, at + 7));
    const { elements, errors } = parse(reader, chunks);
    expect(errors).toEqual([]);
    expect(reader.read.map((r) => [r.attrs, r.groups])).toEqual([
      [{ jid: 'bob@example.net', name: 'Bob & Co', subscription: 'both' }, ['Friends']],
      [{ jid: 'carol@example.net', ask: 'subscribe' }, ['Friends', 'Work <3']],
      [{ jid: 'dave@example.net' }, []],
      [{ jid: 'erin@example.net' }, ['Cd']],
    ]);
    expect(elements).toHaveLength(1);
    const query = elements[0]!.getChild('query', 'jabber:iq:roster')!;
    expect(query.attrs.ver).toBe('v9');
    expect(query.getChildren('item')).toEqual([]);
    expect(reader.read.every((r) => r.query === query)).toBe(true);
  });

  it('builds every other stanza as before: an answer to another request, a push, and any answer when none is awaited', () => {
    const other = "<iq type='result' id='r2'><query xmlns='jabber:iq:roster'><item jid='bob@example.net'><group>Friends</group></item></query></iq>";
    const push = "<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='carol@example.net'/></query></iq>";
    const notRoster = "<iq type='result' id='r1'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='conference.example.org'/></query></iq>";
    for (const reader of [recorder('r1'), recorder(undefined)]) {
      const { elements, errors } = parse(reader, [other, push, notRoster]);
      expect(errors).toEqual([]);
      expect(reader.read).toEqual([]);
      expect(elements.map((e) => e.getChild('query')?.getChildren('item').map((i) => i.attrs.jid))).toEqual([['bob@example.net'], ['carol@example.net'], ['conference.example.org']]);
      expect(elements[0]!.getChild('query')!.getChild('item')!.getChildText('group')).toBe('Friends');
    }
  });

  it('reports a closing tag that does not match inside an item as the library does', () => {
    const reader = recorder('r1');
    const { errors } = parse(reader, ["<iq type='result' id='r1'><query xmlns='jabber:iq:roster'><item jid='bob@example.net'><group>Friends</item>"]);
    expect(errors.map((e) => [e.name, e.message])).toEqual([['XMLError', 'group must be closed.']]);
    expect(reader.read).toEqual([]);
  });
});

describe('Roster with the streaming parser', () => {
  it('takes the items read as they arrived for the answer the library settles the request with', async () => {
    let settle: (query: Element | undefined) => void = () => {};
    const synced: RosterEntry[][] = [];
    const ctx = { getState: () => undefined, setState() {}, buddies: { sync: (entries: RosterEntry[]) => synced.push(entries), synced() {} } } as unknown as ConnectionContext;
    const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
    const session = {
      ctx,
      log: quiet,
      // As the library's caller: the query goes out in an <iq/> that has its id once the call returns.
      iqGet: (child: Element) => {
        xml('iq', { type: 'get', id: 'r1' }, child);
        return new Promise<Element | undefined>((resolve) => (settle = resolve));
      },
    } as unknown as Session;
    const roster = new Roster(session);
    const fetched = roster.fetch();
    const { elements } = parse(roster, [ANSWER.slice(0, 200), ANSWER.slice(200)]);
    settle(elements[0]!.getChild('query', 'jabber:iq:roster'));
    await fetched;
    expect(synced[0]?.map((e) => e.name)).toEqual(['bob@example.net', 'carol@example.net', 'dave@example.net', 'erin@example.net']);
    expect(roster.items.get('carol@example.net')).toEqual({ name: 'carol@example.net', alias: undefined, groups: ['Friends', 'Work <3'], subscription: 'none', ask: true });
    expect(roster.items.get('bob@example.net')?.alias).toBe('Bob & Co');
    // The answer is read: the parser builds the next one with the same id as a tree.
    expect(roster.awaitedId).toBeUndefined();
  });

  it('fills the buddy list item by item as the answer arrives where the core can, and ends it once the answer is in', async () => {
    const added: string[] = [];
    const ended: boolean[] = [];
    let synced = 0;
    let settle: (query: Element | undefined) => void = () => {};
    let fail: (error: Error) => void = () => {};
    const ctx = {
      getState: () => undefined,
      setState() {},
      buddies: {
        sync: () => {
          throw new Error('the whole list is not handed over again');
        },
        syncInParts: () => ({ add: (entry: RosterEntry) => added.push(entry.name), end: (complete = true) => ended.push(complete) }),
        synced: () => synced++,
      },
    } as unknown as ConnectionContext;
    const session = {
      ctx,
      log: { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger,
      iqGet: (child: Element) => {
        xml('iq', { type: 'get', id: 'r1' }, child);
        return new Promise<Element | undefined>((resolve, reject) => {
          settle = resolve;
          fail = reject;
        });
      },
    } as unknown as Session;
    const roster = new Roster(session);
    const fetched = roster.fetch();
    const cut = ANSWER.indexOf('<item jid=\'dave');
    const StreamingParser = itemStreamingParser(Parser as unknown as StreamParserClass, roster);
    const parser = new StreamingParser() as unknown as Parser;
    let answer: Element | undefined;
    parser.on('element', (element: Element) => (answer = element));
    parser.write(HEADER);
    parser.write(ANSWER.slice(0, cut));
    // Half the answer is in: its items are in the buddy list already.
    expect(added).toEqual(['bob@example.net', 'carol@example.net']);
    expect(ended).toEqual([]);
    parser.write(ANSWER.slice(cut));
    settle(answer!.getChild('query', 'jabber:iq:roster'));
    await fetched;
    expect(added).toEqual(['bob@example.net', 'carol@example.net', 'dave@example.net', 'erin@example.net']);
    expect(ended).toEqual([true]);
    expect(synced).toBe(1);

    // An answer cut short by a failed request: what came stays, nothing is removed, and the failure is the fetch's.
    added.length = 0;
    const again = roster.fetch();
    const next = new StreamingParser() as unknown as Parser;
    next.write(HEADER);
    next.write(ANSWER.slice(0, cut));
    fail(new Error('connection lost'));
    await expect(again).rejects.toThrow('connection lost');
    expect(added).toEqual(['bob@example.net', 'carol@example.net']);
    expect(ended).toEqual([true, false]);
    expect(synced).toBe(1);
  });
});
