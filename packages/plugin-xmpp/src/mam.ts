import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import { parseStamp } from './delay.js';
import type { Session } from './session.js';

/** XEP-0313 Message Archive Management, XEP-0359 stanza ids, XEP-0059 result set management. */
export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_STANZA_ID = 'urn:xmpp:sid:0';
const NS_RSM = 'http://jabber.org/protocol/rsm';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_DATA = 'jabber:x:data';

/** The account's plugin state key: the newest archive id this account has seen. */
export const ARCHIVE_STATE_KEY = 'mam-last-id';
const PAGE_SIZE = 50;
/** A server whose result set never ends (or repeats itself) is not followed forever. */
const MAX_PAGES = 2000;
/** How many stanza ids are remembered for deduplication within a connection. */
const SEEN_LIMIT = 10_000;
const QUERY_TIMEOUT_MS = 30_000;

/**
 * The XEP-0359 id `by` gave this stanza. Only the account's own server
 * (`by` = our bare JID, which its archive uses) is trusted: anyone else can
 * put a `<stanza-id>` in what they send, and a trusted forgery could make a
 * genuine message look like one already seen.
 */
export function trustedStanzaId(stanza: Element, by: string): string | undefined {
  for (const child of stanza.getChildren('stanza-id', NS_STANZA_ID)) {
    const claimed = parseAddress(child.attrs.by as string | undefined);
    const id = child.attrs.id;
    if (claimed !== undefined && claimed.full === by && typeof id === 'string' && id !== '') return id;
  }
  return undefined;
}

/** One message out of the archive, with its archive id and the time the server stored it. */
export interface ArchivedMessage {
  id: string;
  message: Element;
  timestamp: number | undefined;
}

/**
 * Reads a `<result>` pushed for our query. Undefined when it is not one we
 * can trust: from anyone but our own account (§6 says results come from the
 * archive, which is ours), for another query, or without an id or message.
 */
export function readArchiveResult(stanza: Element, ownBare: string, queryId: string): ArchivedMessage | undefined {
  const result = stanza.getChild('result', NS_MAM);
  if (result === undefined) return undefined;
  const from = stanza.attrs.from as string | undefined;
  if (from !== undefined) {
    const sender = parseAddress(from);
    if (sender === undefined || sender.full !== ownBare) return undefined;
  }
  if (result.attrs.queryid !== queryId) return undefined;
  const id = result.attrs.id;
  if (typeof id !== 'string' || id === '') return undefined;
  const forwarded = result.getChild('forwarded', NS_FORWARD);
  const message = forwarded?.getChild('message');
  if (forwarded === undefined || message === undefined) return undefined;
  const delay = forwarded.getChild('delay', 'urn:xmpp:delay');
  return { id, message, timestamp: parseStamp(delay?.attrs.stamp as string | undefined) };
}

/** What `<fin>` says about the page (§4.3, XEP-0059 §2.6). */
export function readFin(fin: Element | undefined): { complete: boolean; last: string | undefined } {
  const last = fin?.getChild('set', NS_RSM)?.getChildText('last') ?? undefined;
  return { complete: fin?.attrs.complete === 'true', last: typeof last === 'string' && last !== '' ? last : undefined };
}

export function queryElement(queryId: string, after: { id: string } | { start: Date }): Element {
  const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM))];
  if ('start' in after) fields.push(xml('field', { var: 'start' }, xml('value', {}, after.start.toISOString())));
  const set = xml('set', { xmlns: NS_RSM }, xml('max', {}, String(PAGE_SIZE)), ...('id' in after ? [xml('after', {}, after.id)] : []));
  return xml('query', { xmlns: NS_MAM, queryid: queryId }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields), set);
}

/**
 * §4.1.1 / XEP-0059 §2.5: the page of one peer's messages just before
 * `cursor` (an archive id from the previous page), or the last page before
 * `end` when there is none yet.
 */
export function olderQueryElement(queryId: string, peer: string, query: { end: Date | undefined; cursor: string | undefined; limit: number }): Element {
  const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)), xml('field', { var: 'with' }, xml('value', {}, peer))];
  if (query.cursor === undefined && query.end !== undefined) fields.push(xml('field', { var: 'end' }, xml('value', {}, query.end.toISOString())));
  const set = xml('set', { xmlns: NS_RSM }, xml('max', {}, String(query.limit)), xml('before', {}, query.cursor ?? ''));
  return xml('query', { xmlns: NS_MAM, queryid: queryId }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields), set);
}

/** The first id of a page (XEP-0059 §2.6): where the next older page ends. */
export function readFirst(fin: Element | undefined): string | undefined {
  const first = fin?.getChild('set', NS_RSM)?.getChildText('first');
  return typeof first === 'string' && first !== '' ? first : undefined;
}

/**
 * The account's one-to-one archive: catches up at sign-in on what was said
 * since the last archive id this account saw (kept in the account's plugin
 * state, so it survives restarts and works in a worker thread), and tells
 * live messages, carbons and offline copies apart from those already shown,
 * by their stanza id.
 */
export class Archive {
  private readonly seen = new Set<string>();
  /** The queries in progress (the catch-up, older pages a UI asked for), each collecting its page. */
  private readonly collecting = new Map<string, ArchivedMessage[]>();
  private queries = 0;

  constructor(
    private readonly session: Session,
    /** Hands one archived message to the conversations, in archive order. */
    private readonly deliver: (item: ArchivedMessage) => void,
  ) {}

  /**
   * Records a stanza id; false when it was seen already (the message is a
   * duplicate). Also moves the account's last seen archive id forward
   * (`remember`; a page of the archive stores it once, at its end).
   */
  see(id: string, remember = true): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as string);
    if (remember) this.session.ctx.setState(ARCHIVE_STATE_KEY, { id });
    return true;
  }

  /** A `<result>` message: part of our query's page, or refused. True when it was an archive result at all. */
  handleResult(stanza: Element): boolean {
    const result = stanza.getChild('result', NS_MAM);
    if (result === undefined) return false;
    const queryId = String(result.attrs.queryid);
    const page = this.collecting.get(queryId);
    const item = page === undefined ? undefined : readArchiveResult(stanza, this.session.ownJid().bare, queryId);
    if (item === undefined || page === undefined) {
      this.session.log.warn('Refused an archive result that is not an answer to our query', { from: String(stanza.attrs.from) });
      return true;
    }
    page.push(item);
    return true;
  }

  /**
   * Fetches every page since the last seen id, or of the last `days` days
   * on a first sign-in (or when the server no longer has that id). Errors
   * only cost the catch-up: the sign-in goes on. `days` 0 turns it off.
   */
  async catchUp(days: number): Promise<void> {
    if (days <= 0) return;
    try {
      await this.fetch(days);
    } catch (error) {
      this.session.log.info('Could not fetch the message archive', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * One page of the archive with `peer`, older than what Parley holds: the
   * messages in archive order, the cursor for the page before it, and
   * whether the archive has nothing older. Not remembered as seen: these
   * are older than anything the catch-up fetched.
   */
  async older(peer: string, query: { end: Date | undefined; cursor: string | undefined; limit: number }): Promise<{ items: ArchivedMessage[]; cursor: string | undefined; complete: boolean }> {
    const queryId = `mam${++this.queries}`;
    this.collecting.set(queryId, []);
    try {
      const fin = await this.session.iqSet(olderQueryElement(queryId, peer, query), undefined, QUERY_TIMEOUT_MS);
      const items = this.collecting.get(queryId) ?? [];
      const { complete } = readFin(fin);
      const cursor = readFirst(fin) ?? items[0]?.id;
      return { items, cursor, complete: complete || items.length === 0 || cursor === undefined || cursor === query.cursor };
    } finally {
      this.collecting.delete(queryId);
    }
  }

  private lastId(): string | undefined {
    const state = this.session.ctx.getState<{ id?: unknown }>(ARCHIVE_STATE_KEY);
    return typeof state?.id === 'string' && state.id !== '' ? state.id : undefined;
  }

  private async fetch(days: number): Promise<void> {
    const window = { start: new Date(Date.now() - days * 86_400_000) };
    let from: { id: string } | { start: Date } = this.lastId() === undefined ? window : { id: this.lastId()! };
    let fetched = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const queryId = `mam${++this.queries}`;
      this.collecting.set(queryId, []);
      let fin: Element | undefined;
      try {
        fin = await this.session.iqSet(queryElement(queryId, from), undefined, QUERY_TIMEOUT_MS);
      } catch (error) {
        this.collecting.delete(queryId);
        // The server no longer has the id (archive expired): start again from the window.
        if ('id' in from && (error as { condition?: string }).condition === 'item-not-found') {
          this.session.log.info('The archive no longer has the last seen message; fetching the recent window instead');
          from = window;
          continue;
        }
        throw error;
      }
      const items = this.collecting.get(queryId) ?? [];
      this.collecting.delete(queryId);
      for (const item of items) {
        if (!this.see(item.id, false)) continue;
        fetched++;
        try {
          this.deliver(item);
        } catch (error) {
          this.session.log.warn('Skipped an archived message that could not be handled', { error: error instanceof Error ? error.message : String(error) });
        }
      }
      const newest = items.at(-1)?.id;
      if (newest !== undefined) this.session.ctx.setState(ARCHIVE_STATE_KEY, { id: newest });
      // One page at a time: each is handed on and let go before the next is asked for.
      if (items.length > 0) this.session.log.debug('Fetched an archive page', { messages: items.length });
      const { complete, last } = readFin(fin);
      if (complete || items.length === 0) break;
      const next = last ?? newest;
      if (next === undefined || ('id' in from && from.id === next)) {
        this.session.log.warn('The archive gave an unusable page marker; stopped fetching');
        break;
      }
      from = { id: next };
    }
    this.session.log.info('Fetched the message archive', { messages: fetched });
  }
}
