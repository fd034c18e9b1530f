import type { RosterEntry } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import type { Session } from './session.js';

export const NS_ROSTER = 'jabber:iq:roster';
/** RFC 6121 §2.6.1: the stream feature of a server that versions rosters (XEP-0237). */
export const NS_ROSTER_VERSIONING = 'urn:xmpp:features:rosterver';
/** The account's plugin state key: the roster and its version, kept between sign-ins (§2.6). */
export const ROSTER_STATE_KEY = 'roster';

/** An item as stored: [jid, name, groups, subscription, ask], compact for rosters of thousands. */
type StoredItem = [string, string | null, string[], Subscription, boolean];

interface StoredRoster {
  ver: string;
  items: StoredItem[];
}

function readStored(value: unknown): StoredRoster | undefined {
  const stored = value as Partial<StoredRoster> | undefined;
  if (typeof stored?.ver !== 'string' || stored.ver === '' || !Array.isArray(stored.items)) return undefined;
  const items = stored.items.filter(
    (i): i is StoredItem => Array.isArray(i) && typeof i[0] === 'string' && (i[1] === null || typeof i[1] === 'string') && Array.isArray(i[2]) && SUBSCRIPTIONS.has(String(i[3])) && typeof i[4] === 'boolean',
  );
  return { ver: stored.ver, items };
}

export type Subscription = 'none' | 'to' | 'from' | 'both' | 'remove';

export interface RosterItem {
  jid: string;
  name: string | undefined;
  groups: string[];
  subscription: Subscription;
  /** RFC 6121 §2.1.2.2: we asked to see their presence and wait for an answer. */
  ask: boolean;
}

const SUBSCRIPTIONS = new Set(['none', 'to', 'from', 'both', 'remove']);

/** Reads one <item/>; undefined (and the item skipped) when its JID is unusable. */
export function parseItem(item: Element): RosterItem | undefined {
  const address = parseAddress(item.attrs.jid as string | undefined);
  if (address === undefined || address.resource !== '') return undefined;
  const sub = String(item.attrs.subscription ?? 'none');
  const groups: string[] = [];
  for (const group of item.getChildren('group')) {
    const name = group.text().trim();
    if (name !== '' && !groups.includes(name)) groups.push(name);
  }
  const name = typeof item.attrs.name === 'string' && item.attrs.name.trim() !== '' ? item.attrs.name : undefined;
  return {
    jid: address.bare,
    name,
    groups,
    subscription: (SUBSCRIPTIONS.has(sub) ? sub : 'none') as Subscription,
    ask: item.attrs.ask === 'subscribe',
  };
}

export function toEntry(item: RosterItem): RosterEntry {
  const entry: { name: string; alias?: string; groups?: readonly string[] } = { name: item.jid };
  if (item.name !== undefined) entry.alias = item.name;
  if (item.groups.length > 0) entry.groups = item.groups;
  return entry;
}

export function itemElement(entry: RosterEntry, remove = false): Element {
  if (remove) return xml('item', { jid: entry.name, subscription: 'remove' });
  const attrs: Record<string, string> = { jid: entry.name };
  if (entry.alias !== undefined && entry.alias !== '') attrs.name = entry.alias;
  return xml('item', attrs, ...(entry.groups ?? []).map((g) => xml('group', {}, g)));
}

/**
 * The server-side contact list (RFC 6121 §2) mirrored into the core's buddy
 * list: fetched at sign-in, kept current by roster pushes (changes made from
 * any client of the account), and changed by the user through roster sets.
 */
export class Roster {
  readonly items = new Map<string, RosterItem>();
  /** The server offers roster versioning (set from its stream features before the roster is asked for). */
  versioning = false;
  /** The version of the roster held, and whether it waits to be kept. */
  private ver = '';
  private storing: NodeJS.Immediate | undefined;

  constructor(private readonly session: Session) {}

  /** A resumed session (XEP-0198): the items we had; the buddy list kept them too. */
  restore(items: readonly RosterItem[]): void {
    this.items.clear();
    for (const item of items) this.items.set(item.jid, item);
  }

  /**
   * Sends the roster get (RFC 6121 §2.1.3) and reads the answer into the
   * items; `fetch` hands the entries to the buddy list. Nothing keeps the
   * answer's XML once it is read: building a buddy list of thousands then
   * does not carry the tree through its garbage collections.
   */
  request(): Promise<RosterEntry[]> {
    if (!this.versioning) return this.session.iqGet(xml('query', { xmlns: NS_ROSTER })).then((query) => this.replaceItems(query));
    // §2.6.2: the version we hold ('' for none); the server answers with the whole roster, or with
    // nothing when ours is current (then pushes bring what changed, if it sends changes that way).
    const cached = readStored(this.session.ctx.getState(ROSTER_STATE_KEY));
    return this.session.iqGet(xml('query', { xmlns: NS_ROSTER, ver: cached?.ver ?? '' })).then((query) => {
      if (query === undefined && cached !== undefined) {
        this.session.log.debug('The roster is unchanged since the last sign-in (roster versioning)', { items: cached.items.length });
        return this.restoreStored(cached);
      }
      const entries = this.replaceItems(query);
      const ver = query?.attrs.ver;
      this.store(typeof ver === 'string' ? ver : '');
      return entries;
    });
  }

  private restoreStored(stored: StoredRoster): RosterEntry[] {
    this.ver = stored.ver;
    this.items.clear();
    const entries: RosterEntry[] = [];
    for (const [jid, name, groups, subscription, ask] of stored.items) {
      const item: RosterItem = { jid, name: name ?? undefined, groups, subscription, ask };
      this.items.set(jid, item);
      entries.push(toEntry(item));
    }
    return entries;
  }

  /**
   * Keeps the roster with its version for the next sign-in (a server without
   * versions leaves nothing kept). Written once the sign-in's work is done,
   * not in its way: a burst of pushes costs one write, of the newest version.
   */
  private store(ver: string): void {
    this.ver = this.versioning ? ver : '';
    this.storing ??= setImmediate(() => {
      this.storing = undefined;
      if (this.ver === '') {
        if (this.session.ctx.getState(ROSTER_STATE_KEY) !== undefined) this.session.ctx.setState(ROSTER_STATE_KEY, undefined);
        return;
      }
      const items: StoredItem[] = [...this.items.values()].map((i) => [i.jid, i.name ?? null, i.groups, i.subscription, i.ask]);
      this.session.ctx.setState(ROSTER_STATE_KEY, { ver: this.ver, items } satisfies StoredRoster);
    });
  }

  /** Makes the buddy list the server's roster, from `pending` when the get was already sent, and says it is applied. */
  async fetch(pending: Promise<RosterEntry[]> = this.request()): Promise<void> {
    this.session.ctx.buddies.sync(await pending);
    this.session.ctx.buddies.synced();
  }

  private replaceItems(query: Element | undefined): RosterEntry[] {
    this.items.clear();
    const entries: RosterEntry[] = [];
    for (const el of query?.getChildren('item') ?? []) {
      const item = parseItem(el);
      if (item === undefined) {
        this.session.log.warn('Skipped a roster item with an invalid JID', { jid: String(el.attrs.jid) });
        continue;
      }
      if (item.subscription === 'remove') continue;
      this.items.set(item.jid, item);
      entries.push(toEntry(item));
    }
    return entries;
  }

  /**
   * A roster push (RFC 6121 §2.1.6). Only the server may push: a push from
   * anyone else is an attack and MUST be ignored (§2.1.6, "Security Warning").
   */
  handlePush(stanza: Element): boolean {
    const from = stanza.attrs.from as string | undefined;
    const own = this.session.ownJid();
    if (from !== undefined && parseAddress(from)?.bare !== own.bare) {
      this.session.log.warn('Ignored a roster push not from our server', { from });
      return false;
    }
    const query = stanza.getChild('query', NS_ROSTER);
    const items = query?.getChildren('item') ?? [];
    // §2.1.6: a push carries exactly one item.
    if (items.length !== 1) return false;
    const item = parseItem(items[0]!);
    if (item === undefined) return false;
    if (item.subscription === 'remove') {
      if (this.items.delete(item.jid)) this.session.ctx.buddies.remove(item.jid);
    } else {
      this.items.set(item.jid, item);
      this.session.ctx.buddies.upsert(toEntry(item));
    }
    // §2.6.3: each push carries the version it makes; the kept roster follows it.
    const ver = query?.attrs.ver;
    if (this.versioning && typeof ver === 'string' && ver !== '') this.store(ver);
    return true;
  }

  /** Adds or changes a contact (name, groups); §2.3 / §2.4. */
  async set(entry: RosterEntry): Promise<void> {
    await this.session.iqSet(xml('query', { xmlns: NS_ROSTER }, itemElement(entry)));
  }

  /** Removes a contact; the server also cancels both subscriptions (§2.5.2). */
  async remove(jid: string): Promise<void> {
    await this.session.iqSet(xml('query', { xmlns: NS_ROSTER }, itemElement({ name: jid }, true)));
  }
}
