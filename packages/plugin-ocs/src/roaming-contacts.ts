/**
 * The server-stored buddy list ([MS-SIP] 2.2.4.1, 2.2.4.2, 3.7):
 * `vnd-microsoft-roaming-contacts` gives the full list (groups, contacts
 * cross-referenced by group id) and later full or delta lists; changes go
 * back as SOAP primitives in SERVICE requests (setContact, deleteContact,
 * addGroup, modifyGroup, deleteGroup), each carrying the list's deltaNum.
 */
import { ParleyError } from '@parley/core';
import type { ConnectionContext, RosterEntry } from '@parley/core';
import type { SipEndpoint } from './sip/endpoint.js';
import { headerValue } from './sip/headers.js';
import { child, children, escapeXml, parseXml, textAt, type XmlElement } from './xml.js';

/** The group OCS keeps for contacts in no group of their own. */
export const DEFAULT_GROUP_NAME = '~';
export const DEFAULT_GROUP_LABEL = 'Other Contacts';

/** How long sign-in and list changes wait for the server's first contact list. */
const LIST_WAIT_MS = 10_000;

export interface OcsContact {
  uri: string;
  name: string;
  groups: number[];
}

export class ContactListError extends ParleyError {
  declare readonly code: 'ocs-contact-list-invalid';
  constructor(message: string) {
    super('ocs-contact-list-invalid', message);
  }
}

/**
 * Longer than any real address (an e-mail address is at most 254); a contact
 * address goes into SIP headers (the subscription's Request-URI and To), and a
 * server that sends a huge one would otherwise have us send requests no
 * server accepts.
 */
const MAX_CONTACT_ADDRESS_LENGTH = 512;

const bare = (uri: string) => uri.trim().replace(/^sips?:/i, '').toLowerCase();

export interface RoamingContactsOptions {
  endpoint: SipEndpoint;
  ctx: Pick<ConnectionContext, 'buddies' | 'log'>;
  selfUri: string;
  contact: () => string;
  /** Contacts that appeared or went (for presence subscriptions). */
  onContacts: (added: string[], removed: string[]) => void;
}

export class RoamingContacts {
  readonly groups = new Map<number, string>();
  readonly contacts = new Map<string, OcsContact>();
  private deltaNum = 0;
  private loaded = false;
  private markLoaded: () => void = () => undefined;
  /** Settles when the server's first full list has been applied. */
  private readonly firstList = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });

  constructor(private readonly options: RoamingContactsOptions) {}

  /**
   * Waits for the server's first full list, at most `timeoutMs`. Every change
   * carries the list's deltaNum ([MS-SIP] 3.7), so none can be made before
   * the list is known; and a list that arrives after a change would replace it.
   */
  async whenLoaded(timeoutMs = LIST_WAIT_MS): Promise<boolean> {
    if (this.loaded) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.firstList.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async requireLoaded(): Promise<void> {
    if (!(await this.whenLoaded())) throw new ContactListError('The server has not sent the contact list yet; try again in a moment');
  }

  static groupLabel(name: string): string {
    return name === DEFAULT_GROUP_NAME ? DEFAULT_GROUP_LABEL : name;
  }

  /** A roaming-contacts notification or SERVICE answer body. */
  apply(body: string): void {
    let doc: XmlElement;
    try {
      doc = parseXml(body);
    } catch (error) {
      throw new ContactListError(`Unreadable contact list: ${(error as Error).message}`);
    }
    const delta = Number(doc.attrs.deltaNum);
    if (doc.name === 'contactList') {
      const before = new Set(this.contacts.keys());
      this.groups.clear();
      this.contacts.clear();
      for (const g of children(doc, 'group')) this.addGroup(g);
      for (const c of children(doc, 'contact')) this.addContact(c);
      if (Number.isInteger(delta)) this.deltaNum = delta;
      const first = !this.loaded;
      this.loaded = true;
      this.markLoaded();
      this.options.ctx.buddies.sync([...this.contacts.values()].map((c) => this.entry(c)));
      // The first whole list of this sign-in is the server's list applied; later ones only refresh it.
      if (first) this.options.ctx.buddies.synced();
      const now = new Set(this.contacts.keys());
      this.options.onContacts([...now].filter((u) => !before.has(u)), [...before].filter((u) => !now.has(u)));
      return;
    }
    if (doc.name === 'contactDelta') {
      // A delta older than what we hold was already applied through a full list.
      if (Number.isInteger(delta) && delta <= this.deltaNum) return;
      const added: string[] = [];
      const removed: string[] = [];
      for (const el of doc.children) {
        if (el.name === 'addedGroup' || el.name === 'modifiedGroup') this.addGroup(el);
        else if (el.name === 'deletedGroup') this.groups.delete(Number(el.attrs.id));
        else if (el.name === 'addedContact' || el.name === 'modifiedContact') {
          const c = this.addContact(el);
          if (c) {
            this.options.ctx.buddies.upsert(this.entry(c));
            if (el.name === 'addedContact') added.push(c.uri);
          }
        } else if (el.name === 'deletedContact') {
          const uri = bare(el.attrs.uri ?? '');
          if (this.contacts.delete(uri)) {
            this.options.ctx.buddies.remove(uri);
            removed.push(uri);
          }
        } else this.options.ctx.log.debug(`Skipping unknown contact list element <${el.name}>`);
      }
      if (Number.isInteger(delta)) this.deltaNum = delta;
      if (added.length || removed.length) this.options.onContacts(added, removed);
      return;
    }
    throw new ContactListError(`Not a contact list: <${doc.name}>`);
  }

  private addGroup(el: XmlElement): void {
    const id = Number(el.attrs.id);
    const name = el.attrs.name;
    if (!Number.isInteger(id) || id < 0 || name === undefined) {
      this.options.ctx.log.debug('Skipping a contact group without id or name');
      return;
    }
    this.groups.set(id, name);
  }

  private addContact(el: XmlElement): OcsContact | undefined {
    const uri = bare(el.attrs.uri ?? '');
    if (uri.length > MAX_CONTACT_ADDRESS_LENGTH || !/^[^@\s<>"]+@[^@\s<>"]+$/.test(uri)) {
      this.options.ctx.log.debug(`Skipping a contact with an unusable address ${JSON.stringify((el.attrs.uri ?? '').slice(0, 80))}`);
      return undefined;
    }
    const groups = (el.attrs.groups ?? '')
      .split(/\s+/)
      .filter((g) => /^\d+$/.test(g))
      .map(Number);
    const contact = { uri, name: el.attrs.name ?? '', groups };
    this.contacts.set(uri, contact);
    return contact;
  }

  entry(c: OcsContact): RosterEntry {
    const groups = c.groups.map((id) => this.groups.get(id)).filter((g): g is string => g !== undefined).map(RoamingContacts.groupLabel);
    const entry: RosterEntry = { name: c.uri, groups: groups.length ? groups : [DEFAULT_GROUP_LABEL] };
    if (c.name !== '') entry.alias = c.name;
    return entry;
  }

  get ready(): boolean {
    return this.loaded;
  }

  // ---- changes made here ---------------------------------------------------

  private async soap(method: string, inner: string): Promise<XmlElement | undefined> {
    const sent = this.deltaNum;
    const content =
      '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>' +
      `<m:${method} xmlns:m="http://schemas.microsoft.com/winrtc/2002/11/sip">${inner}<m:deltaNum>${this.deltaNum}</m:deltaNum></m:${method}>` +
      '</SOAP-ENV:Body></SOAP-ENV:Envelope>';
    const response = await this.options.endpoint.request('SERVICE', this.options.selfUri, {
      to: this.options.selfUri,
      extraHeaders: [this.options.contact()],
      body: { contentType: 'application/SOAP+xml', content },
    });
    if (response.status < 200 || response.status >= 300) {
      throw new ContactListError(`The server refused ${method}: ${response.status} ${response.reason}`);
    }
    const type = (headerValue(response.raw, 'Content-Type') ?? '').toLowerCase();
    try {
      if (response.raw.body.trim() === '') return undefined;
      if (type.startsWith('application/vnd-microsoft-roaming-contacts+xml')) {
        this.apply(response.raw.body);
        return undefined;
      }
      try {
        return parseXml(response.raw.body);
      } catch {
        return undefined;
      }
    } finally {
      // Each accepted primitive moves the server's list one on. The new list may already
      // have arrived in a notification while we waited for the answer: never count twice.
      this.deltaNum = Math.max(this.deltaNum, sent + 1);
    }
  }

  private groupId(label: string): number | undefined {
    const name = label === DEFAULT_GROUP_LABEL ? DEFAULT_GROUP_NAME : label;
    for (const [id, n] of this.groups) if (n === name) return id;
    return undefined;
  }

  private async ensureGroup(label: string): Promise<number> {
    const known = this.groupId(label);
    if (known !== undefined) return known;
    const answer = await this.soap('addGroup', `<m:name>${escapeXml(label)}</m:name><m:externalURI />`);
    const id = Number(textAt(child(answer, 'Body'), 'addGroup/groupID'));
    if (!Number.isInteger(id)) {
      const again = this.groupId(label);
      if (again !== undefined) return again;
      throw new ContactListError(`The server did not say which id the group "${label}" got`);
    }
    this.groups.set(id, label);
    return id;
  }

  private async setContact(uri: string, name: string, groups: number[]): Promise<void> {
    await this.soap(
      'setContact',
      `<m:displayName>${escapeXml(name)}</m:displayName><m:groups>${groups.join(' ')}</m:groups><m:subscribed>true</m:subscribed><m:URI>${escapeXml(uri)}</m:URI><m:externalURI />`,
    );
  }

  async add(entry: RosterEntry): Promise<void> {
    await this.requireLoaded();
    const uri = bare(entry.name);
    const ids: number[] = [];
    for (const g of entry.groups?.length ? entry.groups : [DEFAULT_GROUP_LABEL]) ids.push(await this.ensureGroup(g));
    await this.setContact(uri, entry.alias ?? this.contacts.get(uri)?.name ?? '', ids);
  }

  async remove(name: string): Promise<void> {
    await this.requireLoaded();
    const uri = bare(name);
    if (!this.contacts.has(uri)) return;
    await this.soap('deleteContact', `<m:URI>${escapeXml(uri)}</m:URI>`);
  }

  /**
   * Moves or renames a contact. A move that empties a group deletes it; a
   * move of a group's only member to a group that does not exist yet is a
   * rename of that group (modifyGroup), which is what renaming a group in
   * Parley amounts to.
   */
  async update(entry: RosterEntry): Promise<void> {
    await this.requireLoaded();
    const uri = bare(entry.name);
    const current = this.contacts.get(uri);
    if (!current) return this.add(entry);
    const wanted = entry.groups?.length ? entry.groups : [DEFAULT_GROUP_LABEL];
    const oldIds = current.groups;
    if (wanted.length === 1 && oldIds.length === 1 && this.groupId(wanted[0]!) === undefined) {
      const oldId = oldIds[0]!;
      const members = [...this.contacts.values()].filter((c) => c.groups.includes(oldId));
      if (members.length === 1 && this.groups.get(oldId) !== DEFAULT_GROUP_NAME) {
        await this.soap('modifyGroup', `<m:groupID>${oldId}</m:groupID><m:name>${escapeXml(wanted[0]!)}</m:name><m:externalURI />`);
        this.groups.set(oldId, wanted[0]!);
        if ((entry.alias ?? current.name) !== current.name) await this.setContact(uri, entry.alias ?? '', oldIds);
        return;
      }
    }
    const ids: number[] = [];
    for (const g of wanted) ids.push(await this.ensureGroup(g));
    await this.setContact(uri, entry.alias ?? current.name, ids);
    for (const oldId of oldIds) {
      if (ids.includes(oldId) || this.groups.get(oldId) === DEFAULT_GROUP_NAME) continue;
      const stillUsed = [...this.contacts.values()].some((c) => c.uri !== uri && c.groups.includes(oldId));
      if (!stillUsed && this.groups.has(oldId)) await this.soap('deleteGroup', `<m:groupID>${oldId}</m:groupID>`);
    }
  }
}
