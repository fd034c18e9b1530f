import type { RosterEntry } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import type { Session } from './session.js';

export const NS_ROSTER = 'jabber:iq:roster';

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
    return this.session.iqGet(xml('query', { xmlns: NS_ROSTER })).then((query) => this.replaceItems(query));
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
      return true;
    }
    this.items.set(item.jid, item);
    this.session.ctx.buddies.upsert(toEntry(item));
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
