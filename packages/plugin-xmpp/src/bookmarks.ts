import type { ServerChat } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import { itemsRequest, publishRequest, retractRequest, type PubsubEvent } from './pubsub.js';
import type { Session } from './session.js';
import { copyElement } from './xml-copy.js';
import { xmlSafe } from './text.js';

/** XEP-0402 PEP Native Bookmarks. */
export const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
/** XEP-0402 §3.2: the server converts to and from XEP-0048, so older clients see the same list. */
export const NS_BOOKMARKS_COMPAT = `${NS_BOOKMARKS}#compat`;
/** XEP-0048 in XEP-0049 private XML storage: what a server without XEP-0402 keeps. */
const NS_PRIVATE = 'jabber:iq:private';
const NS_LEGACY = 'storage:bookmarks';
/** A hostile server could send thousands: the core's saved chats stay a list a person keeps. */
const MAX_BOOKMARKS = 1000;

/** XEP-0402 §4 / §5: the node must be private and keep every item. */
const PUBLISH_OPTIONS = { persist_items: 'true', max_items: 'max', send_last_published_item: 'never', access_model: 'whitelist' };

export interface Bookmark {
  jid: string;
  name: string | undefined;
  autojoin: boolean;
  nick: string | undefined;
  password: string | undefined;
  /** The stored element: extensions other clients put there are published back unchanged. */
  element: Element | undefined;
}

function flag(value: unknown): boolean {
  return value === 'true' || value === '1';
}

/** One `<conference/>`, of either XEP; undefined when its room address is unusable. */
export function readConference(jid: string | undefined, conference: Element | undefined): Bookmark | undefined {
  const address = parseAddress(jid);
  if (address === undefined || address.local === '' || address.resource !== '' || conference?.name !== 'conference') return undefined;
  const name = typeof conference.attrs.name === 'string' && conference.attrs.name.trim() !== '' ? conference.attrs.name : undefined;
  const nick = conference.getChildText('nick')?.trim() || undefined;
  const password = conference.getChildText('password') || undefined;
  return { jid: address.bare, name, autojoin: flag(conference.attrs.autojoin), nick, password, element: conference };
}

function conferenceElement(chat: ServerChat, jid: string, previous: Bookmark | undefined, legacy: boolean): Element {
  const attrs: Record<string, string> = { autojoin: chat.autojoin ? 'true' : 'false', ...(legacy ? { jid } : { xmlns: NS_BOOKMARKS }) };
  const name = chat.alias ?? previous?.name;
  if (name !== undefined && name !== '') attrs.name = xmlSafe(name);
  // What Parley does not edit (nick, password, other clients' extensions) is kept as it was.
  const kept = previous?.element?.getChildElements().map(copyElement) ?? [];
  return xml('conference', attrs, ...kept);
}

/**
 * The account's saved group chats on its server, mirrored into the core's
 * saved chats: XEP-0402 (one PEP item per room, changes pushed live) where
 * the server converts to and from XEP-0048, else XEP-0048 in private XML
 * storage (the whole list read and written at once, no live changes).
 */
export class Bookmarks {
  private readonly marks = new Map<string, Bookmark>();
  private mode: 'pep' | 'private' | undefined;

  constructor(
    private readonly session: Session,
    /** The room's bare JID for a name the user gave ("#lounge"). */
    private readonly roomJid: (name: string) => Promise<string>,
    /** Another client bookmarked a room to join automatically: join it now (XEP-0402 §3.3). */
    private readonly autojoin: (jid: string) => void,
  ) {}

  /** The bookmarked nick for a room, used when joining it without one. */
  nickFor(jid: string): string | undefined {
    return this.marks.get(jid)?.nick;
  }

  passwordFor(jid: string): string | undefined {
    return this.marks.get(jid)?.password;
  }

  /** At sign-in: reads the server's bookmarks and hands them to the core. Errors only cost the feature. */
  async load(accountFeatures: ReadonlySet<string>): Promise<void> {
    this.mode = accountFeatures.has(NS_BOOKMARKS_COMPAT) ? 'pep' : 'private';
    try {
      const list = this.mode === 'pep' ? await this.fetchPep() : await this.fetchPrivate();
      this.replace(list);
    } catch (error) {
      this.session.log.info('Could not read the bookmarks', { error: error instanceof Error ? error.message : String(error) });
      this.mode = undefined;
      return;
    }
    this.report();
  }

  private async fetchPep(): Promise<Bookmark[]> {
    let pubsub: Element | undefined;
    try {
      pubsub = await this.session.iqGet(itemsRequest(NS_BOOKMARKS));
    } catch (error) {
      // No node yet: nobody saved a chat.
      if ((error as { condition?: string }).condition === 'item-not-found') return [];
      throw error;
    }
    const items = pubsub?.getChild('items')?.getChildren('item') ?? [];
    return items.map((item) => readConference(item.attrs.id as string | undefined, item.getChild('conference', NS_BOOKMARKS))).filter((b): b is Bookmark => b !== undefined);
  }

  private async storage(): Promise<Element | undefined> {
    const query = await this.session.iqGet(xml('query', { xmlns: NS_PRIVATE }, xml('storage', { xmlns: NS_LEGACY })));
    return query?.getChild('storage', NS_LEGACY);
  }

  private async fetchPrivate(): Promise<Bookmark[]> {
    const storage = await this.storage();
    return (storage?.getChildren('conference') ?? []).map((c) => readConference(c.attrs.jid as string | undefined, c)).filter((b): b is Bookmark => b !== undefined);
  }

  private replace(list: readonly Bookmark[]): void {
    this.marks.clear();
    for (const mark of list.slice(0, MAX_BOOKMARKS)) this.marks.set(mark.jid, mark);
    if (list.length > MAX_BOOKMARKS) this.session.log.warn('The server has more bookmarks than Parley keeps', { bookmarks: list.length, kept: MAX_BOOKMARKS });
  }

  private report(): void {
    this.session.ctx.chats.saved([...this.marks.values()].map((m) => ({ room: m.jid, autojoin: m.autojoin, ...(m.name === undefined ? {} : { alias: m.name }) })));
  }

  /** A PEP notification about our bookmarks node (another client changed them). True when it was one. */
  handleEvent(event: PubsubEvent): boolean {
    if (event.node !== NS_BOOKMARKS) return false;
    if (event.kind !== 'items') {
      this.marks.clear();
    } else {
      for (const id of event.retracted) this.marks.delete(parseAddress(id)?.bare ?? id);
      for (const item of event.published) {
        const mark = readConference(item.id, item.payload?.attrs.xmlns === NS_BOOKMARKS ? item.payload : undefined);
        if (mark === undefined) {
          this.session.log.warn('Skipped a bookmark that could not be read', { id: String(item.id) });
          continue;
        }
        const previous = this.marks.get(mark.jid);
        if (this.marks.size >= MAX_BOOKMARKS && previous === undefined) continue;
        this.marks.set(mark.jid, mark);
        if (mark.autojoin && previous?.autojoin !== true) this.autojoin(mark.jid);
      }
    }
    this.report();
    return true;
  }

  /** The user saved (or changed) a chat in Parley. */
  async save(chat: ServerChat): Promise<void> {
    const jid = await this.roomJid(chat.room);
    const previous = this.marks.get(jid);
    if (this.mode === undefined) return;
    // Known before the server echoes it back (its notification can come ahead of its answer): not taken for another client's.
    const mark = readConference(jid, conferenceElement(chat, jid, previous, true));
    if (mark !== undefined) this.marks.set(jid, mark);
    try {
      if (this.mode === 'pep') {
        await this.session.iqSet(publishRequest(NS_BOOKMARKS, jid, conferenceElement(chat, jid, previous, false), PUBLISH_OPTIONS));
      } else {
        await this.writePrivate((conferences) => [...conferences.filter((c) => parseAddress(c.attrs.jid as string | undefined)?.bare !== jid), conferenceElement(chat, jid, previous, true)]);
      }
    } catch (error) {
      if (previous === undefined) this.marks.delete(jid);
      else this.marks.set(jid, previous);
      throw error;
    }
    this.report();
  }

  /** The user removed a saved chat in Parley. */
  async remove(room: string): Promise<void> {
    const jid = await this.roomJid(room);
    if (this.mode === 'pep') {
      try {
        await this.session.iqSet(retractRequest(NS_BOOKMARKS, jid));
      } catch (error) {
        if ((error as { condition?: string }).condition !== 'item-not-found') throw error;
      }
    } else if (this.mode === 'private') {
      await this.writePrivate((conferences) => conferences.filter((c) => parseAddress(c.attrs.jid as string | undefined)?.bare !== jid));
    } else {
      return;
    }
    this.marks.delete(jid);
    this.report();
  }

  /** XEP-0048 keeps one list: read it again (another client may have changed it), change it, write it whole. */
  private async writePrivate(change: (conferences: Element[]) => Element[]): Promise<void> {
    const storage = await this.storage();
    const others = storage?.getChildElements().filter((c) => c.name !== 'conference') ?? [];
    const conferences = change(storage?.getChildren('conference') ?? []);
    await this.session.iqSet(xml('query', { xmlns: NS_PRIVATE }, xml('storage', { xmlns: NS_LEGACY }, ...conferences, ...others)));
  }
}
