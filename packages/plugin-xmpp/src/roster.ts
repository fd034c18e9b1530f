import type { ConnectionContext, RosterEntry } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress, parseBareJid } from './address.js';
import type { RosterItemReader } from './roster-stream.js';
import type { Session } from './session.js';
import { ownCopy } from './text.js';

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

/**
 * A contact as the server's roster has it. Shaped as the core's RosterEntry
 * (`name` is the bare JID, `alias` the name the user gave it), so the items
 * themselves are the buddy list handed to the core, with no entry made per
 * contact for it.
 */
export interface RosterItem {
  /** The bare JID. */
  readonly name: string;
  /** The name the user gave the contact. */
  readonly alias: string | undefined;
  readonly groups: readonly string[];
  readonly subscription: Subscription;
  /** RFC 6121 §2.1.2.2: we asked to see their presence and wait for an answer. */
  readonly ask: boolean;
}

const SUBSCRIPTIONS = new Map<string, Subscription>((['none', 'to', 'from', 'both', 'remove'] as const).map((s) => [s, s]));
/** One empty list for every contact in no group. */
const NO_GROUPS: readonly string[] = Object.freeze([]);

/**
 * The group names of one roster, by the name as it came: each name is one
 * string, and the contacts in that group alone share one list holding it,
 * rather than a string and a list each.
 */
export type GroupNames = Map<string, readonly string[]>;

function groupList(name: string, groupNames: GroupNames | undefined): readonly string[] {
  const known = groupNames?.get(name);
  if (known !== undefined) return known;
  const list = Object.freeze([ownCopy(name)]);
  groupNames?.set(name, list);
  return list;
}

/**
 * Reads one roster item from its attributes and the texts of its `<group/>`
 * children (the first `groupCount` of `groupTexts`); undefined (and the item
 * skipped) when its JID is unusable.
 */
export function readItem(attrs: Readonly<Record<string, unknown>>, groupTexts: readonly string[], groupNames?: GroupNames, groupCount = groupTexts.length): RosterItem | undefined {
  const jid = parseBareJid(attrs.jid);
  if (jid === undefined) return undefined;
  let groups = NO_GROUPS;
  // Indexed: this runs once per contact, and until the code is optimized an iterator makes an object per step.
  for (let i = 0; i < groupCount; i++) {
    const name = groupTexts[i]!.trim();
    if (name === '') continue;
    const list = groupList(name, groupNames);
    if (groups.length === 0) groups = list;
    else if (!groups.includes(list[0]!)) groups = [...groups, list[0]!];
  }
  const alias = attrs.name;
  return {
    name: jid,
    alias: typeof alias === 'string' && alias.trim() !== '' ? ownCopy(alias) : undefined,
    groups,
    // The constant, not the attribute's text: one string for every item rather than one each.
    subscription: SUBSCRIPTIONS.get(String(attrs.subscription ?? 'none')) ?? 'none',
    ask: attrs.ask === 'subscribe',
  };
}

/** Reads one <item/> element (a roster push, or an answer read as a whole); see `readItem`. */
export function parseItem(item: Element, groupNames?: GroupNames): RosterItem | undefined {
  return readItem(
    item.attrs,
    item.getChildren('group').map((group) => group.text()),
    groupNames,
  );
}

export function itemElement(entry: RosterEntry, remove = false): Element {
  if (remove) return xml('item', { jid: entry.name, subscription: 'remove' });
  const attrs: Record<string, string> = { jid: entry.name };
  if (entry.alias !== undefined && entry.alias !== '') attrs.name = entry.alias;
  return xml('item', attrs, ...(entry.groups ?? []).map((g) => xml('group', {}, g)));
}

/** A roster answer being read as it arrives (see roster-stream.ts). */
interface AnswerInProgress {
  /** The id of the roster get. */
  readonly id: string;
  /** The answer's `<query/>`, once its first item is read: items of any other are not ours. */
  query: Element | undefined;
  readonly items: Map<string, RosterItem>;
  readonly groupNames: GroupNames;
  /** The buddy list being filled as the items arrive: opened at the first item; null where the core cannot. */
  parts: BuddySyncInParts | null | undefined;
}

type BuddySyncInParts = ReturnType<NonNullable<ConnectionContext['buddies']['syncInParts']>>;

/** The answer to a roster get: its `<query/>` (none: unchanged, §2.6.3), and what was read of it as it arrived. */
interface Answer {
  query: Element | undefined;
  read: AnswerInProgress | undefined;
}

/** The items in a list made to measure, without an iterator's object per item. */
function listOf(items: ReadonlyMap<string, RosterItem>): RosterItem[] {
  const list = new Array<RosterItem>(items.size);
  let i = 0;
  items.forEach((item) => {
    list[i++] = item;
  });
  return list;
}

/**
 * The server-side contact list (RFC 6121 §2) mirrored into the core's buddy
 * list: fetched at sign-in, kept current by roster pushes (changes made from
 * any client of the account), and changed by the user through roster sets.
 */
export class Roster implements RosterItemReader {
  private current = new Map<string, RosterItem>();
  /** The server offers roster versioning (set from its stream features before the roster is asked for). */
  versioning = false;
  /** The version of the roster held, and whether it waits to be kept. */
  private ver = '';
  private storing: NodeJS.Immediate | undefined;
  /** While a sign-in is under way the roster is not written: see `holdWrites`. */
  private held = false;
  private waiting = false;
  private answer: AnswerInProgress | undefined;
  /** The buddy list filled with the last answer as it arrived, for `fetch` to end. */
  private filled: BuddySyncInParts | undefined;

  constructor(private readonly session: Session) {}

  /** The contacts by bare JID. */
  get items(): ReadonlyMap<string, RosterItem> {
    return this.current;
  }

  /** A resumed session (XEP-0198): the items we had; the buddy list kept them too. */
  restore(items: readonly RosterItem[]): void {
    this.current = new Map();
    for (const item of items) this.current.set(item.name, item);
  }

  get awaitedId(): string | undefined {
    return this.answer?.id;
  }

  /** An item of the awaited answer, read while the rest of it is still arriving. */
  item(attrs: Readonly<Record<string, string>>, groups: readonly string[], groupCount: number, query: Element): void {
    const answer = this.answer;
    if (answer === undefined) return;
    answer.query ??= query;
    if (answer.query !== query) return;
    const kept = this.keep(readItem(attrs, groups, answer.groupNames, groupCount), attrs.jid, answer.items);
    if (kept === undefined) return;
    // Into the buddy list at once, while the rest of the roster is on its way (core API 1.15).
    if (answer.parts === undefined) answer.parts = this.session.ctx.buddies.syncInParts?.() ?? null;
    answer.parts?.add(kept);
  }

  /**
   * Sends the roster get (RFC 6121 §2.1.3) and reads the answer into the
   * items; `fetch` hands them to the buddy list. With the parser from
   * roster-stream.ts the items are read as they arrive, each one's XML
   * dropped once read; what the parser left in the answer is read at the end.
   */
  request(): Promise<RosterItem[]> {
    if (!this.versioning) return this.send(xml('query', { xmlns: NS_ROSTER })).then((answer) => this.replaceItems(answer));
    // §2.6.2: the version we hold ('' for none); the server answers with the whole roster, or with
    // nothing when ours is current (then pushes bring what changed, if it sends changes that way).
    const cached = readStored(this.session.ctx.getState(ROSTER_STATE_KEY));
    return this.send(xml('query', { xmlns: NS_ROSTER, ver: cached?.ver ?? '' })).then((answer) => {
      const { query } = answer;
      if (query === undefined && cached !== undefined) {
        this.session.log.debug('The roster is unchanged since the last sign-in (roster versioning)', { items: cached.items.length });
        return this.restoreStored(cached);
      }
      const items = this.replaceItems(answer);
      const ver = query?.attrs.ver;
      this.store(typeof ver === 'string' ? ver : '');
      return items;
    });
  }

  /** Sends the get and, once it has its id, reads its answer item by item as it arrives. */
  private send(query: Element): Promise<Answer> {
    const sent = this.session.iqGet(query);
    // The session wraps the query in the <iq/> it sends, which has its id by the time iqGet returns.
    const id = query.parent?.attrs.id;
    if (typeof id !== 'string' || id === '') return sent.then((element) => ({ query: element, read: undefined }));
    const read: AnswerInProgress = { id, query: undefined, items: new Map(), groupNames: new Map(), parts: undefined };
    this.answer = read;
    const done = (): void => {
      if (this.answer === read) this.answer = undefined;
    };
    return sent.then(
      (element) => {
        done();
        return { query: element, read };
      },
      (error: unknown) => {
        done();
        // What arrived of the roster stays in the buddy list; nothing is removed for what did not.
        read.parts?.end(false);
        throw error;
      },
    );
  }

  private restoreStored(stored: StoredRoster): RosterItem[] {
    this.ver = stored.ver;
    const items = new Map<string, RosterItem>();
    // As when read from the server: one string per group name and per subscription state.
    const groupNames: GroupNames = new Map();
    for (const [jid, name, groups, subscription, ask] of stored.items) {
      const list = groups.length === 0 ? NO_GROUPS : groups.length === 1 ? groupList(groups[0]!, groupNames) : groups.map((group) => groupList(group, groupNames)[0]!);
      items.set(jid, { name: jid, alias: name ?? undefined, groups: list, subscription: SUBSCRIPTIONS.get(subscription) ?? 'none', ask });
    }
    this.current = items;
    return listOf(items);
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
      for (const i of this.current.values()) items.push([i.name, i.alias ?? null, i.groups as string[], i.subscription, i.ask]);
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

  /**
   * Makes the buddy list the server's roster, from `pending` when the get was
   * already sent, and says it is applied. The items go to the core as they
   * are: they have the shape of its entries.
   */
  async fetch(pending: Promise<RosterItem[]> = this.request()): Promise<void> {
    const items = await pending;
    // The items already went to the buddy list as they arrived: it only has to drop who is gone.
    const parts = this.filled;
    this.filled = undefined;
    if (parts !== undefined) parts.end(true);
    else this.session.ctx.buddies.sync(items);
    this.session.ctx.buddies.synced();
  }

  /** `item` into `items`, unless it is unusable (logged) or a removal; the item kept, if any. */
  private keep(item: RosterItem | undefined, jid: unknown, items: Map<string, RosterItem>): RosterItem | undefined {
    if (item === undefined) {
      this.session.log.warn('Skipped a roster item with an invalid JID', { jid: String(jid) });
      return undefined;
    }
    if (item.subscription === 'remove') return undefined;
    items.set(item.name, item);
    return item;
  }

  /** The answer's items: those read as they arrived, then any left in its `query`. */
  private replaceItems({ query, read }: Answer): RosterItem[] {
    const whole = read !== undefined && read.query !== undefined && read.query === query;
    const items = whole ? read.items : new Map<string, RosterItem>();
    const groupNames: GroupNames = whole ? read.groupNames : new Map();
    const parts = whole ? (read.parts ?? undefined) : undefined;
    // Items read of another answer than the one the request settled with: not ours to remove by.
    if (!whole) read?.parts?.end(false);
    // A roster received by an attempt that went no further (it never reached `fetch`).
    this.filled?.end(false);
    for (const el of query?.getChildren('item') ?? []) {
      const kept = this.keep(parseItem(el, groupNames), el.attrs.jid, items);
      if (kept !== undefined) parts?.add(kept);
    }
    this.current = items;
    this.filled = parts;
    return listOf(items);
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
      if (this.current.delete(item.name)) this.session.ctx.buddies.remove(item.name);
    } else {
      this.current.set(item.name, item);
      this.session.ctx.buddies.upsert(item);
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
