import { join } from 'node:path';
import { ConfigError } from '../errors/ParleyError.js';
import { OFFLINE, availabilityRank, mostAvailable, type Presence } from '../presence/presence.js';
import { CoalescedJsonFile, readJsonFile } from '../storage/json-file.js';
import type { RosterEntry, ServerChat } from '../plugins/contract.js';
import { newId } from '../util/ids.js';
import { IconCache, isIconType, type BuddyIcon } from './icons.js';

export const DEFAULT_GROUP = 'Buddies';

/** One account's view of one person. */
export interface Buddy {
  /** The account the buddy is on. */
  accountId: string;
  /** The buddy's protocol address (JID, nick, SIP address). */
  name: string;
  /** The name the user (or the server's list) gave it. */
  alias?: string;
  /** Its presence now (`OFFLINE` when unknown). */
  presence: Presence;
  /** Its profile, once fetched (`parley.buddies.info`), field name → text. */
  info?: Record<string, string>;
  /** Since core API 1.8: the buddy's picture, cached in the data folder. */
  icon?: BuddyIcon;
}

/** A person: one or more buddies, possibly from several accounts (a meta-contact). */
export interface Contact {
  /** The core's id for the contact (kept in the buddy list file). */
  id: string;
  /** The name the user gave the person. */
  alias?: string;
  /** The group it is shown in. */
  group: string;
  /** Its buddies, one per account (and address) it is reached at. */
  buddies: Buddy[];
}

/** A group chat kept in the buddy list (a bookmark), locally and, where the protocol can, on the server. */
export interface SavedChat {
  /** The account it is joined with. */
  accountId: string;
  /** The room's address. */
  room: string;
  /** The name the user gave it. */
  alias?: string;
  /** The buddy-list group it is shown in. */
  group: string;
  /** Joined at each sign-in of the account. */
  autojoin: boolean;
  /** Since core API 1.6: saved while the account was offline; sent to the server at its next sign-in. */
  pending?: boolean;
}

/** A contact as a UI reads it, with what it shows computed. */
export interface ContactView extends Contact {
  /** The most available presence of its buddies. */
  presence: Presence;
  /** What to show: the contact's alias, else its most available buddy's alias, else its first buddy's alias or address. */
  displayName: string;
}

interface StoredFile {
  version: 1;
  groups: string[];
  contacts: Array<{ id: string; alias?: string; group: string; buddies: Array<{ accountId: string; name: string; alias?: string; icon?: { hash: string; type: string } }> }>;
  chats: SavedChat[];
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function validate(value: unknown): StoredFile {
  const f = value as Partial<StoredFile> | null;
  if (typeof f !== 'object' || f === null || f.version !== 1 || !Array.isArray(f.groups) || !Array.isArray(f.contacts) || !Array.isArray(f.chats)) {
    throw new Error('expected { "version": 1, "groups": [], "contacts": [], "chats": [] }');
  }
  for (const c of f.contacts) {
    if (typeof c?.id !== 'string' || typeof c.group !== 'string' || !Array.isArray(c.buddies)) throw new Error('a contact is missing id, group or buddies');
    for (const b of c.buddies) if (typeof b?.accountId !== 'string' || typeof b.name !== 'string') throw new Error('a buddy is missing accountId or name');
  }
  return f as StoredFile;
}

/**
 * Groups → contacts → buddies, plus saved group chats. Presence is live
 * state and is not persisted; the structure is, on every change.
 */
export class BuddyList {
  private readonly file: CoalescedJsonFile | undefined;
  private groups: string[] = [];
  private readonly contacts = new Map<string, Contact>();
  /**
   * Account → lower-cased name → the contact holding that buddy: rosters run to thousands. Keyed by
   * the name itself (the lower-cased form of a lower-case address is the same string), so the index
   * adds no string per buddy, and an account's buddies are found without walking every other
   * account's. The buddy itself is found in its contact (`buddyIn`), most often its only one, so the
   * index holds no object per buddy either.
   */
  private readonly index = new Map<string, Map<string, Contact>>();
  private chats: SavedChat[] = [];
  private onChange: () => void = () => {};
  /** Pictures by content; none without a data folder. */
  readonly icons: IconCache | undefined;

  /** `onSaveError`: a background write failed (the list stays in memory and is written again on the next change). */
  constructor(dataDir: string | undefined, onSaveError: (error: unknown) => void = () => {}) {
    if (dataDir === undefined) return;
    this.icons = new IconCache(join(dataDir, 'icons'));
    const path = join(dataDir, 'buddies.json');
    // Coalesced over half a second: a roster of thousands arriving as single
    // pushes, or several accounts signing in at start, cost one write, and it
    // comes after a sign-in rather than in the middle of one.
    this.file = new CoalescedJsonFile(path, () => this.stored(), onSaveError, 500);
    const stored = readJsonFile<StoredFile | undefined>(path, undefined, validate);
    if (stored === undefined) return;
    this.groups = [...stored.groups];
    for (const c of stored.contacts) {
      const contact: Contact = {
        id: c.id,
        group: c.group,
        buddies: c.buddies.map((b) => ({ accountId: b.accountId, name: b.name, ...(b.alias === undefined ? {} : { alias: b.alias }), ...this.storedIcon(b.icon), presence: OFFLINE })),
      };
      if (c.alias !== undefined) contact.alias = c.alias;
      this.contacts.set(contact.id, contact);
      this.indexContact(contact);
      if (!this.groups.includes(contact.group)) this.groups.push(contact.group);
    }
    this.chats = stored.chats.map((c) => ({ ...c }));
  }

  /** Called after every structural change (persisted already). */
  setChangeListener(listener: () => void): void {
    this.onChange = listener;
  }

  private changed(): void {
    this.file?.schedule();
    this.onChange();
  }

  /** Writes the list now (at shutdown). */
  async save(): Promise<void> {
    await this.file?.flush();
  }

  private stored(): StoredFile {
    return {
      version: 1,
      groups: this.groups,
      contacts: [...this.contacts.values()].map((c) => ({
        id: c.id,
        ...(c.alias === undefined ? {} : { alias: c.alias }),
        group: c.group,
        buddies: c.buddies.map((b) => ({
          accountId: b.accountId,
          name: b.name,
          ...(b.alias === undefined ? {} : { alias: b.alias }),
          ...(b.icon === undefined ? {} : { icon: { hash: b.icon.hash, type: b.icon.type } }),
        })),
      })),
      chats: this.chats,
    };
  }

  groupNames(): readonly string[] {
    return this.groups;
  }

  contactList(): ContactView[] {
    return [...this.contacts.values()].map((c) => this.view(c));
  }

  view(contact: Contact): ContactView {
    const best = mostAvailable(contact.buddies);
    const presence = best?.presence ?? OFFLINE;
    const displayName = contact.alias ?? best?.alias ?? contact.buddies[0]?.alias ?? contact.buddies[0]?.name ?? contact.id;
    return { ...contact, buddies: contact.buddies.map((b) => ({ ...b })), presence, displayName };
  }

  contact(id: string): Contact | undefined {
    return this.contacts.get(id);
  }

  /** The account's part of the index, made when `create`. */
  private accountIndex(accountId: string, create: true): Map<string, Contact>;
  private accountIndex(accountId: string, create?: false): Map<string, Contact> | undefined;
  private accountIndex(accountId: string, create = false): Map<string, Contact> | undefined {
    let names = this.index.get(accountId);
    if (names === undefined && create) {
      names = new Map();
      this.index.set(accountId, names);
    }
    return names;
  }

  private indexContact(contact: Contact): void {
    for (const buddy of contact.buddies) this.accountIndex(buddy.accountId, true).set(buddy.name.toLowerCase(), contact);
  }

  /** The buddy of `accountId` whose lower-cased name is `key`, in the contact the index gives for it. */
  private static buddyIn(contact: Contact, accountId: string, key: string): Buddy | undefined {
    const buddies = contact.buddies;
    if (buddies.length === 1) return buddies[0]!.accountId === accountId ? buddies[0] : undefined;
    for (const buddy of buddies) if (buddy.accountId === accountId && buddy.name.toLowerCase() === key) return buddy;
    return undefined;
  }

  /** The buddy `name` of `accountId`, without its contact. */
  private buddy(accountId: string, name: string): Buddy | undefined {
    const key = name.toLowerCase();
    const contact = this.index.get(accountId)?.get(key);
    return contact === undefined ? undefined : BuddyList.buddyIn(contact, accountId, key);
  }

  find(accountId: string, name: string): { contact: Contact; buddy: Buddy } | undefined {
    const key = name.toLowerCase();
    const contact = this.index.get(accountId)?.get(key);
    const buddy = contact === undefined ? undefined : BuddyList.buddyIn(contact, accountId, key);
    return buddy === undefined ? undefined : { contact: contact!, buddy };
  }

  /**
   * Whether `accountId`'s buddies are, in the order of `buddiesOf`, the given names, aliases and
   * groups (a contact's group as a string; anything else never matches): the check a copy of the
   * list kept elsewhere needs, made by walking the index instead of copying the list.
   */
  matchesRoster(accountId: string, names: readonly unknown[], aliases: readonly unknown[], groups: readonly unknown[]): boolean {
    const index = this.index.get(accountId);
    if ((index?.size ?? 0) !== names.length) return false;
    if (index === undefined) return true;
    let i = 0;
    for (const [key, contact] of index) {
      const buddy = BuddyList.buddyIn(contact, accountId, key);
      if (buddy === undefined || buddy.name !== names[i] || buddy.alias !== aliases[i] || contact.group !== groups[i]) return false;
      i++;
    }
    return true;
  }

  buddiesOf(accountId: string): Buddy[] {
    const out: Buddy[] = [];
    for (const [key, contact] of this.index.get(accountId) ?? []) {
      const buddy = BuddyList.buddyIn(contact, accountId, key);
      if (buddy !== undefined) out.push(buddy);
    }
    return out;
  }

  private ensureGroup(group: string): void {
    if (!this.groups.includes(group)) this.groups.push(group);
  }

  /** Adds or updates a buddy of the account whose part of the index is `names`; returns true when something changed. */
  private upsertQuiet(names: Map<string, Contact>, accountId: string, entry: RosterEntry): boolean {
    const group = entry.groups?.[0] ?? DEFAULT_GROUP;
    // Rosters run to thousands: the key is made once per entry.
    const key = entry.name.toLowerCase();
    const contact = names.get(key);
    const buddy = contact === undefined ? undefined : BuddyList.buddyIn(contact, accountId, key);
    if (contact === undefined || buddy === undefined) {
      this.ensureGroup(group);
      // Made whole in one literal: a property added afterwards would cost each buddy a separate property store.
      const added: Buddy = entry.alias === undefined ? { accountId, name: entry.name, presence: OFFLINE } : { accountId, name: entry.name, presence: OFFLINE, alias: entry.alias };
      const made: Contact = { id: newId(), group, buddies: [added] };
      this.contacts.set(made.id, made);
      names.set(key, made);
      return true;
    }
    let changed = false;
    if (entry.alias !== undefined && buddy.alias !== entry.alias) {
      buddy.alias = entry.alias;
      changed = true;
    }
    // A meta-contact keeps its own group; a single buddy follows the server's.
    if (entry.groups !== undefined && entry.groups.length > 0 && contact.buddies.length === 1 && !entry.groups.includes(contact.group)) {
      this.ensureGroup(group);
      contact.group = group;
      changed = true;
    }
    return changed;
  }

  upsert(accountId: string, entry: RosterEntry): void {
    if (this.upsertQuiet(this.accountIndex(accountId, true), accountId, entry)) this.changed();
  }

  private removeQuiet(accountId: string, name: string): boolean {
    const found = this.find(accountId, name);
    if (found === undefined) return false;
    found.contact.buddies = found.contact.buddies.filter((b) => b !== found.buddy);
    const names = this.accountIndex(accountId);
    names?.delete(name.toLowerCase());
    if (names?.size === 0) this.index.delete(accountId);
    if (found.contact.buddies.length === 0) this.contacts.delete(found.contact.id);
    return true;
  }

  remove(accountId: string, name: string): void {
    if (this.removeQuiet(accountId, name)) this.changed();
  }

  /** Makes the account's buddies exactly `entries` (a full server roster). */
  sync(accountId: string, entries: readonly RosterEntry[]): void {
    const parts = this.beginSync(accountId);
    // Indexed: until the code is optimized, an iterator makes an object per entry, and rosters run to thousands.
    for (let i = 0; i < entries.length; i++) parts.add(entries[i]!);
    parts.end(true);
  }

  /**
   * A full server roster of the account handed over entry by entry as it
   * arrives: each entry is in the list at once; `end(true)` then removes the
   * account's buddies that were not added, and `end(false)` (the roster did
   * not arrive whole) removes nothing. Either announces the change, once.
   */
  beginSync(accountId: string): { add(entry: RosterEntry): void; end(complete: boolean): void } {
    const before = this.index.get(accountId);
    // Who was on the list and has not been added again: removed at the end of a whole roster.
    const unseen = before === undefined || before.size === 0 ? undefined : new Set(before.keys());
    let changed = false;
    let open = true;
    return {
      add: (entry) => {
        if (!open) return;
        unseen?.delete(entry.name.toLowerCase());
        if (this.upsertQuiet(this.accountIndex(accountId, true), accountId, entry)) changed = true;
      },
      end: (complete) => {
        if (!open) return;
        open = false;
        if (complete && unseen !== undefined) for (const key of unseen) if (this.removeQuiet(accountId, key)) changed = true;
        if (changed) this.changed();
      },
    };
  }

  /** Removes every buddy and saved chat of an account (the account was deleted). */
  forgetAccount(accountId: string): void {
    for (const buddy of this.buddiesOf(accountId)) this.removeQuiet(accountId, buddy.name);
    this.chats = this.chats.filter((c) => c.accountId !== accountId);
    this.changed();
  }

  /** Live presence; returns the previous one, or undefined when the buddy is not on the list. */
  setPresence(accountId: string, name: string, presence: Presence): Presence | undefined {
    const buddy = this.buddy(accountId, name);
    if (buddy === undefined) return undefined;
    const previous = buddy.presence;
    buddy.presence = presence;
    return previous;
  }

  setInfo(accountId: string, name: string, info: Record<string, string>): void {
    const found = this.find(accountId, name);
    if (found !== undefined) found.buddy.info = { ...found.buddy.info, ...info };
  }

  /** A stored icon whose file is still in the cache (the folder may have been cleaned). */
  private storedIcon(icon: { hash?: unknown; type?: unknown } | undefined): { icon?: BuddyIcon } {
    if (this.icons === undefined || typeof icon?.hash !== 'string' || !/^[0-9a-f]{40}$/.test(icon.hash) || !isIconType(icon.type)) return {};
    if (!this.icons.has(icon.hash, icon.type)) return {};
    return { icon: { hash: icon.hash, type: icon.type, path: this.icons.pathOf(icon.hash, icon.type) } };
  }

  /** Since core API 1.8: a buddy's picture changed (undefined: removed). False when the buddy is not on the list or nothing changed. */
  setIcon(accountId: string, name: string, icon: BuddyIcon | undefined): boolean {
    const found = this.find(accountId, name);
    if (found === undefined || found.buddy.icon?.hash === icon?.hash) return false;
    if (icon === undefined) delete found.buddy.icon;
    else found.buddy.icon = icon;
    this.changed();
    return true;
  }

  /** Every buddy of an account goes offline (the account disconnected). */
  markAccountOffline(accountId: string): void {
    for (const buddy of this.buddiesOf(accountId)) buddy.presence = OFFLINE;
  }

  moveContact(contactId: string, group: string): Contact {
    const contact = this.requireContact(contactId);
    this.ensureGroup(group);
    contact.group = group;
    this.changed();
    return contact;
  }

  aliasContact(contactId: string, alias: string | undefined): void {
    const contact = this.requireContact(contactId);
    if (alias === undefined || alias === '') delete contact.alias;
    else contact.alias = alias;
    this.changed();
  }

  renameGroup(from: string, to: string): Contact[] {
    if (!this.groups.includes(from)) throw new ConfigError('invalid-settings', `No group "${from}"`);
    this.groups = this.groups.includes(to) ? this.groups.filter((g) => g !== from) : this.groups.map((g) => (g === from ? to : g));
    const moved = [...this.contacts.values()].filter((c) => c.group === from);
    for (const c of moved) c.group = to;
    this.changed();
    return moved;
  }

  removeGroup(name: string): void {
    if ([...this.contacts.values()].some((c) => c.group === name)) throw new ConfigError('invalid-settings', `Group "${name}" is not empty`);
    this.groups = this.groups.filter((g) => g !== name);
    this.changed();
  }

  /** Makes one person of two contacts: `source`'s buddies join `target`. */
  mergeContacts(targetId: string, sourceId: string): Contact {
    const target = this.requireContact(targetId);
    const source = this.requireContact(sourceId);
    if (target === source) return target;
    target.buddies.push(...source.buddies);
    this.contacts.delete(sourceId);
    this.indexContact(target);
    this.changed();
    return target;
  }

  /** Takes a buddy out of its meta-contact into a contact of its own. */
  splitBuddy(accountId: string, name: string): Contact {
    const found = this.find(accountId, name);
    if (found === undefined) throw new ConfigError('invalid-settings', `No buddy ${name}`);
    if (found.contact.buddies.length === 1) return found.contact;
    found.contact.buddies = found.contact.buddies.filter((b) => b !== found.buddy);
    const contact: Contact = { id: newId(), group: found.contact.group, buddies: [found.buddy] };
    this.contacts.set(contact.id, contact);
    this.indexContact(contact);
    this.changed();
    return contact;
  }

  /** The buddy to write to: the most available one whose account `isOnline`. */
  bestBuddy(contactId: string, isOnline: (accountId: string) => boolean): Buddy | undefined {
    const contact = this.requireContact(contactId);
    const reachable = contact.buddies.filter((b) => isOnline(b.accountId));
    const best = mostAvailable(reachable);
    if (best !== undefined && availabilityRank(best.presence) > 0) return best;
    // Nobody online: any buddy on a connected account can still get an offline message.
    return reachable[0];
  }

  private requireContact(id: string): Contact {
    const contact = this.contacts.get(id);
    if (contact === undefined) throw new ConfigError('invalid-settings', `No contact ${id}`);
    return contact;
  }

  savedChats(): readonly SavedChat[] {
    return this.chats;
  }

  saveChat(chat: SavedChat): void {
    this.chats = [...this.chats.filter((c) => !(c.accountId === chat.accountId && sameName(c.room, chat.room))), chat];
    this.ensureGroup(chat.group);
    this.changed();
  }

  /**
   * The server's list of an account's chats replaces the saved ones: a chat
   * keeps the group the user put it in, and one saved while offline
   * (`pending`) stays until it has been sent.
   */
  syncChats(accountId: string, chats: readonly ServerChat[]): void {
    const mine = this.chats.filter((c) => c.accountId === accountId);
    const next: SavedChat[] = [];
    for (const chat of chats) {
      const known = mine.find((c) => sameName(c.room, chat.room));
      if (known?.pending === true) continue;
      const saved: SavedChat = { accountId, room: chat.room, group: known?.group ?? 'Chats', autojoin: chat.autojoin === true };
      if (chat.alias !== undefined && chat.alias !== '') saved.alias = chat.alias;
      next.push(saved);
    }
    for (const chat of mine) if (chat.pending === true) next.push(chat);
    const same = next.length === mine.length && next.every((c) => mine.some((m) => sameName(m.room, c.room) && m.alias === c.alias && m.autojoin === c.autojoin && m.group === c.group && m.pending === c.pending));
    if (same) return;
    for (const chat of next) this.ensureGroup(chat.group);
    this.chats = [...this.chats.filter((c) => c.accountId !== accountId), ...next];
    this.changed();
  }

  removeChat(accountId: string, room: string): void {
    this.chats = this.chats.filter((c) => !(c.accountId === accountId && sameName(c.room, room)));
    this.changed();
  }
}
