import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { describe, expect, it } from 'vitest';
import { Archive, ARCHIVE_STATE_KEY, readArchiveResult, readFin, trustedStanzaId, type ArchivedMessage } from './mam.js';
import type { Session } from './session.js';

const OWN = 'alice@localhost';
const forwarded = (inner: Element, stamp = '2026-01-02T03:04:05Z') => xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp }), inner);
const body = (text: string) => xml('message', { from: 'bob@localhost/x', to: OWN, type: 'chat' }, xml('body', {}, text));
const result = (attrs: Record<string, string>, ...children: Element[]) => xml('message', { from: OWN, to: `${OWN}/parley`, ...attrs.outer === undefined ? {} : { from: attrs.outer } }, xml('result', { xmlns: 'urn:xmpp:mam:2', ...Object.fromEntries(Object.entries(attrs).filter(([k]) => k !== 'outer')) }, ...children));
const fin = (complete: boolean, last?: string) =>
  xml('fin', { xmlns: 'urn:xmpp:mam:2', ...(complete ? { complete: 'true' } : {}) }, xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, ...(last === undefined ? [] : [xml('last', {}, last)])));

describe('archive parsing', () => {
  it('trusts a stanza id only when our own bare JID gave it', () => {
    const m = xml(
      'message',
      {},
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'localhost', id: 'a' }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'alice@localhost/phone', id: 'b' }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: '@@bad', id: 'c' }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: OWN }),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: OWN, id: 'real' }),
    );
    expect(trustedStanzaId(m, OWN)).toBe('real');
    expect(trustedStanzaId(xml('message', {}, xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: 'bob@localhost', id: 'x' })), OWN)).toBeUndefined();
  });

  it('refuses results from others, for other queries, or without an id or a message', () => {
    const good = result({ queryid: 'q', id: '1' }, forwarded(body('hi')));
    expect(readArchiveResult(good, OWN, 'q')).toMatchObject({ id: '1', timestamp: Date.parse('2026-01-02T03:04:05Z') });
    expect(readArchiveResult(result({ outer: 'bob@localhost', queryid: 'q', id: '1' }, forwarded(body('hi'))), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ outer: 'alice@localhost/phone', queryid: 'q', id: '1' }, forwarded(body('hi'))), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ queryid: 'other', id: '1' }, forwarded(body('hi'))), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ queryid: 'q' }, forwarded(body('hi'))), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ queryid: 'q', id: '1' }), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ queryid: 'q', id: '1' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' })), OWN, 'q')).toBeUndefined();
    expect(readArchiveResult(result({ queryid: 'q', id: '1' }, forwarded(body('hi'), 'yesterday')), OWN, 'q')?.timestamp).toBeUndefined();
  });

  it('reads a page end with or without result set details', () => {
    expect(readFin(fin(true, 'z'))).toEqual({ complete: true, last: 'z' });
    expect(readFin(fin(false))).toEqual({ complete: false, last: undefined });
    expect(readFin(undefined)).toEqual({ complete: false, last: undefined });
    expect(readFin(xml('fin', { xmlns: 'urn:xmpp:mam:2', complete: 'yes' }))).toEqual({ complete: false, last: undefined });
  });
});

/**
 * The archive's paging over a scripted server: each query is answered with
 * the result messages `pages` gives for it, then its `<fin>`.
 */
function scripted(pages: (query: Element, queryId: string) => { results: Element[]; fin: Element } | Error) {
  const state = new Map<string, unknown>();
  const queries: Element[] = [];
  const delivered: ArchivedMessage[] = [];
  const warnings: string[] = [];
  let archive!: Archive;
  const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
  const session = {
    ctx: { getState: (k: string) => state.get(k), setState: (k: string, v: unknown) => state.set(k, v) },
    log,
    ownJid: () => ({ full: `${OWN}/parley`, bare: OWN, domain: 'localhost', local: 'alice' }),
    send: async () => {},
    iqGet: async () => undefined,
    async iqSet(query: Element) {
      queries.push(query);
      const answer = pages(query, query.attrs.queryid as string);
      if (answer instanceof Error) throw answer;
      for (const r of answer.results) archive.handleResult(r);
      return answer.fin;
    },
  } as unknown as Session;
  archive = new Archive(session, (item) => {
    if (item.message.getChildText('body') === 'explodes') throw new Error('boom');
    delivered.push(item);
  });
  return { archive, state, queries, delivered, warnings };
}

const after = (query: Element) => query.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('after') ?? undefined;

describe('archive catch-up', () => {
  it('pages through the archive with RSM and remembers the last id', async () => {
    const t = scripted((query, q) => {
      const from = Number(after(query) ?? 0);
      const results = [1, 2].map((n) => result({ queryid: q, id: String(from + n) }, forwarded(body(`m${from + n}`))));
      return { results, fin: fin(from + 2 >= 6, String(from + 2)) };
    });
    await t.archive.catchUp(7);
    expect(t.delivered.map((d) => d.id)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(t.state.get(ARCHIVE_STATE_KEY)).toEqual({ id: '6' });
    // The first query asks for a window of days, the later ones for what follows the last page.
    expect(t.queries[0]!.getChild('x', 'jabber:x:data')?.getChildren('field').map((f) => f.attrs.var)).toEqual(['FORM_TYPE', 'start']);
    expect(t.queries.slice(1).map(after)).toEqual(['2', '4']);
  });

  it('survives hostile pages: forged senders, missing ids, repeated or missing page markers, a message that fails', async () => {
    let call = 0;
    const t = scripted((_query, q) => {
      call++;
      if (call === 1) {
        return {
          results: [
            result({ queryid: q, id: 'a' }, forwarded(body('kept 1'))),
            result({ outer: 'mallory@evil.example', queryid: q, id: 'evil' }, forwarded(body('forged'))),
            result({ queryid: q }, forwarded(body('no id'))),
            result({ queryid: q, id: 'x' }, forwarded(body('explodes'))),
            result({ queryid: q, id: 'b' }, forwarded(body('kept 2'))),
          ],
          fin: fin(false, 'b'),
        };
      }
      // Claims there is more but gives the same marker again: must not loop.
      return { results: [result({ queryid: q, id: 'b' }, forwarded(body('kept 2')))], fin: fin(false, 'b') };
    });
    await t.archive.catchUp(7);
    expect(t.delivered.map((d) => d.message.getChildText('body'))).toEqual(['kept 1', 'kept 2']);
    expect(t.queries.length).toBe(2);
    expect(t.warnings).toContain('The archive gave an unusable page marker; stopped fetching');

    const noMarker = scripted((_query, q) => ({ results: [result({ queryid: q, id: 'only' }, forwarded(body('one')))], fin: xml('fin', { xmlns: 'urn:xmpp:mam:2' }) }));
    await noMarker.archive.catchUp(7);
    // Without <last>, the last result's id carries on; the next (empty) page ends it.
    expect(noMarker.delivered.map((d) => d.id)).toEqual(['only']);
    expect(noMarker.queries.map(after)).toEqual([undefined, 'only']);
  });

  it('starts from the last seen id, and falls back to the window when the server no longer has it', async () => {
    const t = scripted((query, q) => {
      if (after(query) === 'gone') return Object.assign(new Error('item-not-found'), { condition: 'item-not-found' });
      return { results: [result({ queryid: q, id: 'n1' }, forwarded(body('new')))], fin: fin(true, 'n1') };
    });
    t.state.set(ARCHIVE_STATE_KEY, { id: 'gone' });
    await t.archive.catchUp(7);
    expect(t.queries.map(after)).toEqual(['gone', undefined]);
    expect(t.delivered.map((d) => d.id)).toEqual(['n1']);
    // An error other than a missing id costs only the catch-up.
    const failing = scripted(() => new Error('service-unavailable'));
    await expect(failing.archive.catchUp(7)).resolves.toBeUndefined();
  });

  it('tells a copy of a message already seen by its id', () => {
    const t = scripted(() => new Error('unused'));
    expect(t.archive.see('s1')).toBe(true);
    expect(t.archive.see('s1')).toBe(false);
    expect(t.state.get(ARCHIVE_STATE_KEY)).toEqual({ id: 's1' });
  });
});
