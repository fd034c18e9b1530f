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

/**
 * The kept roster is one JSON text in the account's state: the state keeps
 * its own copy of what it is given, and of thousands of items that copy is
 * one string rather than thousands of arrays held for the whole run.
 * Earlier versions kept the object itself; it is still read.
 */
function readStored(value: unknown): StoredRoster | undefined {
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
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

const SUBSCRIPTIONS = new Map<string, Subscription>((['none', 'to', 'from', 'both', 'remove'] as const).map((s) => [s, s]));

/**
 * Reads one <item/>; undefined (and the item skipped) when its JID is unusable.
 * `groupNames`, shared by the items of one roster, makes every item of a group
 * hold the same string for its name rather than a copy each.
 */
export function parseItem(item: Element, groupNames?: Map<string, string>): RosterItem | undefined {
  const address = parseAddress(item.attrs.jid as string | undefined);
  if (address === undefined || address.resource !== '') return undefined;
  const groupText = (group: Element): string => {
    const name = group.text().trim();
    if (groupNames === undefined) return name;
    const known = groupNames.get(name);
    if (known !== undefined) return known;
    groupNames.set(name, name);
    return name;
  };
  const children = item.getChildren('group');
  let groups: string[];
  // Most contacts are in one group: an array made to measure, not one grown by a push (which
  // reserves room for more than a dozen names, kept for as long as the contact).
  if (children.length === 1) {
    const name = groupText(children[0]!);
    groups = name === '' ? [] : [name];
  } else {
    const found: string[] = [];
    for (const group of children) {
      const name = groupText(group);
      if (name !== '' && !found.includes(name)) found.push(name);
    }
    groups = found.slice();
  }
  const name = typeof item.attrs.name === 'string' && item.attrs.name.trim() !== '' ? item.attrs.name : undefined;
  return {
    jid: address.bare,
    name,
    groups,
    // The constant, not the attribute's text: one string for every item rather than one each.
    subscription: SUBSCRIPTIONS.get(String(item.attrs.subscription ?? 'none')) ?? 'none',
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
  /** While a sign-in is under way the roster is not written: see `holdWrites`. */
  private held = false;
  private waiting = false;

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
    // As when read from the server: one string per group name and per subscription state.
    const groupNames = new Map<string, string>();
    const shared = (group: string): string => {
      const known = groupNames.get(group);
      if (known !== undefined) return known;
      groupNames.set(group, group);
      return group;
    };
    for (const [jid, name, groups, subscription, ask] of stored.items) {
      for (let i = 0; i < groups.length; i++) groups[i] = shared(groups[i]!);
      const item: RosterItem = { jid, name: name ?? undefined, groups, subscription: SUBSCRIPTIONS.get(subscription) ?? 'none', ask };
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
    if (this.held) {
      this.waiting = true;
      return;
    }
    this.storing ??= setImmediate(() => {
      this.storing = undefined;
      if (this.ver === '') {
        if (this.session.ctx.getState(ROSTER_STATE_KEY) !== undefined) this.session.ctx.setState(ROSTER_STATE_KEY, undefined);
        return;
      }
      const items: StoredItem[] = [];
      for (const i of this.items.values()) items.push([i.jid, i.name ?? null, i.groups, i.subscription, i.ask]);
      this.session.ctx.setState(ROSTER_STATE_KEY, JSON.stringify({ ver: this.ver, items } satisfies StoredRoster));
    });
  }

  /**
   * From the roster get until the initial presence is out, the roster is
   * written at `releaseWrites`, not as soon as it arrives: writing thousands
   * of items takes milliseconds that the sign-in would wait for.
   */
  holdWrites(): void {
    this.held = true;
  }

  /** Writes what was held back (if anything); a sign-in that failed still keeps the roster it received. */
  releaseWrites(): void {
    if (!this.held) return;
    this.held = false;
    if (this.waiting) {
      this.waiting = false;
      this.store(this.ver);
    }
  }

  /** Makes the buddy list the server's roster, from `pending` when the get was already sent, and says it is applied. */
  async fetch(pending: Promise<RosterEntry[]> = this.request()): Promise<void> {
    this.session.ctx.buddies.sync(await pending);
    this.session.ctx.buddies.synced();
  }

  private replaceItems(query: Element | undefined): RosterEntry[] {
    this.items.clear();
    const entries: RosterEntry[] = [];
    const groupNames = new Map<string, string>();
    for (const el of query?.getChildren('item') ?? []) {
      const item = parseItem(el, groupNames);
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
