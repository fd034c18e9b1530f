/**
 * The conference event package (RFC 4575, with [MS-CONFBAS] 2.2.2's
 * extensions): `application/conference-info+xml` documents a focus sends
 * in its NOTIFYs, full or partial, and the roster kept from them. A full
 * document replaces what is known; a partial one changes only the elements
 * it carries, and a user or endpoint marked `deleted` is gone. Versions
 * order the documents: an old one is ignored, and a gap (a NOTIFY lost) or
 * a partial document before any full one asks the caller for the full
 * state again. Unknown elements are ignored, as RFC 4575 requires.
 */
import type { ChatParticipant } from '@parley/core';
import { child, children, DocumentError, parseXml, textAt, type XmlElement } from '../xml.js';
import { oneLine } from './c3p.js';
import { isSafeSipUri, participantAddress } from './uri.js';

export const CONFERENCE_INFO_TYPE = 'application/conference-info+xml';

export type ElementState = 'full' | 'partial' | 'deleted';
export type ConferenceRole = 'organizer' | 'presenter' | 'attendee';

interface EndpointInfo {
  entity: string;
  state: ElementState;
  sessionType?: string;
  /** The endpoint's status element, when present. */
  status?: string;
}

export interface UserInfo {
  address: string;
  state: ElementState;
  displayName?: string;
  /** The roles element's entries, when it is present (lower case, known or not). */
  roles?: string[];
  endpoints: EndpointInfo[];
}

export interface ConferenceInfo {
  entity: string;
  state: ElementState;
  version: number | undefined;
  subject?: string;
  /** The IM MCU's URI (conf-uris entry with purpose chat, or the chat entity view). */
  chatUri?: string;
  organizer?: string;
  locked?: boolean;
  users: UserInfo[];
}

const stateOf = (value: string | undefined, fallback: ElementState): ElementState => (value === 'full' || value === 'partial' || value === 'deleted' ? value : fallback);
const MAX_NAME = 256;

function displayText(user: XmlElement): string | undefined {
  const raw = textAt(user, 'display-text');
  if (raw === undefined) return undefined;
  const line = oneLine(raw);
  return line.length > MAX_NAME ? line.slice(0, MAX_NAME) : line;
}

/** The IM MCU's URI: a conf-uris entry for chat, or [MS-CONFBAS]'s chat entity view. */
function chatUriOf(doc: XmlElement): string | undefined {
  for (const entry of children(child(doc, 'conference-description/conf-uris'), 'entry')) {
    const uri = textAt(entry, 'uri');
    if (textAt(entry, 'purpose')?.toLowerCase() === 'chat' && uri && isSafeSipUri(uri)) return uri;
  }
  for (const view of children(child(doc, 'conference-view'), 'entity-view')) {
    const entity = view.attrs.entity ?? '';
    if (/;opaque=app:conf:chat:/i.test(entity) && isSafeSipUri(entity)) return entity;
  }
  return undefined;
}

/** Parses a conference document; XmlError when it is not XML, DocumentError when it is not conference-info. */
export function parseConferenceInfo(body: string): ConferenceInfo {
  const doc = parseXml(body);
  if (doc.name !== 'conference-info') throw new DocumentError(`Expected conference-info, got <${doc.name}>`);
  const version = doc.attrs.version === undefined ? undefined : Number(doc.attrs.version);
  const info: ConferenceInfo = {
    entity: doc.attrs.entity ?? '',
    state: stateOf(doc.attrs.state, 'full'),
    version: version !== undefined && Number.isSafeInteger(version) && version >= 0 ? version : undefined,
    users: [],
  };
  const subject = textAt(doc, 'conference-description/subject');
  if (subject !== undefined) info.subject = oneLine(subject);
  const chatUri = chatUriOf(doc);
  if (chatUri) info.chatUri = chatUri;
  const organizer = participantAddress(textAt(doc, 'conference-description/organizer/uri') ?? '');
  if (organizer) info.organizer = organizer;
  for (const view of children(child(doc, 'conference-view'), 'entity-view')) {
    const locked = textAt(view, 'entity-state/locked');
    if (locked !== undefined) info.locked = locked === 'true';
  }
  for (const user of children(child(doc, 'users'), 'user')) {
    const address = participantAddress(user.attrs.entity ?? '');
    if (!address) continue;
    const roles = child(user, 'roles');
    const parsed: UserInfo = {
      address,
      state: stateOf(user.attrs.state, 'full'),
      endpoints: children(user, 'endpoint').map((e) => {
        const endpoint: EndpointInfo = { entity: (e.attrs.entity ?? '').slice(0, 512), state: stateOf(e.attrs.state, 'full') };
        if (e.attrs['session-type'] !== undefined) endpoint.sessionType = e.attrs['session-type'].toLowerCase();
        const status = textAt(e, 'status');
        if (status !== undefined) endpoint.status = status.toLowerCase();
        return endpoint;
      }),
    };
    const name = displayText(user);
    if (name !== undefined) parsed.displayName = name;
    if (roles) parsed.roles = children(roles, 'entry').map((r) => oneLine(r.text).toLowerCase().slice(0, 40)).filter((r) => r !== '');
    info.users.push(parsed);
  }
  return info;
}

interface Member {
  address: string;
  displayName?: string;
  roles: string[];
  endpoints: Map<string, { sessionType?: string; status?: string }>;
}

export interface Participant {
  address: string;
  displayName?: string;
  role?: ConferenceRole;
}

export interface RosterChange {
  /** Now in the chat (their chat endpoint connected). */
  joined: Participant[];
  /** No longer in the chat. */
  left: string[];
  /** Still in the chat with another name or role. */
  changed: Participant[];
  /** The subject, when this document changed it. */
  subject?: string;
  chatUri?: string;
  /** Ask the focus for the full state again (a NOTIFY was lost, or a partial one came first). */
  resync: boolean;
  /** The focus says the conference is gone. */
  ended: boolean;
  /** The document was older than what is known and changed nothing. */
  stale: boolean;
}

const RANK: Record<ConferenceRole, number> = { organizer: 3, presenter: 2, attendee: 1 };

/** The strongest of a user's roles that Parley knows. */
export function strongestRole(roles: readonly string[], organizer = false): ConferenceRole | undefined {
  let best: ConferenceRole | undefined = organizer ? 'organizer' : undefined;
  for (const role of roles) if ((role === 'organizer' || role === 'presenter' || role === 'attendee') && (!best || RANK[role] > RANK[best])) best = role;
  return best;
}

/** A participant as the core shows it: the address as nick, the conference's words for the role. */
export function toChatParticipant(p: Participant): ChatParticipant {
  const participant: ChatParticipant = { nick: p.address };
  if (p.displayName) participant.realName = p.displayName;
  if (p.role) {
    participant.role = p.role === 'organizer' ? 'owner' : p.role === 'presenter' ? 'moderator' : 'member';
    participant.roleLabel = p.role;
  }
  return participant;
}

/** What one conference's NOTIFYs say, applied in order. */
export class ConferenceRoster {
  private readonly members = new Map<string, Member>();
  private version: number | undefined;
  private hadFull = false;
  private organizer: string | undefined;
  subject: string | undefined;
  chatUri: string | undefined;

  /** Who is in the chat now. */
  participants(): Participant[] {
    return [...this.members.values()].filter((m) => this.inChat(m)).map((m) => this.participant(m));
  }

  private inChat(member: Member): boolean {
    for (const e of member.endpoints.values()) if (e.sessionType === 'chat' && (e.status === undefined || e.status === 'connected')) return true;
    return false;
  }

  private participant(member: Member): Participant {
    const p: Participant = { address: member.address };
    if (member.displayName) p.displayName = member.displayName;
    const role = strongestRole(member.roles, member.address === this.organizer);
    if (role) p.role = role;
    return p;
  }

  /** Applies one NOTIFY body; throws XmlError / DocumentError for a body that cannot be read (nothing changes then). */
  apply(body: string): RosterChange {
    return this.applyInfo(parseConferenceInfo(body));
  }

  applyInfo(info: ConferenceInfo): RosterChange {
    const change: RosterChange = { joined: [], left: [], changed: [], resync: false, ended: false, stale: false };
    if (info.state === 'deleted') {
      change.ended = true;
      change.left = this.participants().map((p) => p.address);
      this.members.clear();
      return change;
    }
    const full = info.state === 'full';
    // A full document is always taken: after a new SUBSCRIBE the focus may number its documents afresh.
    if (!full && info.version !== undefined && this.version !== undefined && info.version <= this.version) {
      change.stale = true;
      return change;
    }
    if (!full && (!this.hadFull || (info.version !== undefined && this.version !== undefined && info.version > this.version + 1))) change.resync = true;
    if (info.version !== undefined) this.version = info.version;
    const before = new Map(this.participants().map((p) => [p.address, p]));
    if (full) {
      this.hadFull = true;
      this.members.clear();
    }
    if (info.organizer) this.organizer = info.organizer;
    if (info.chatUri && !this.chatUri) {
      this.chatUri = info.chatUri;
      change.chatUri = info.chatUri;
    }
    if (info.subject !== undefined && info.subject !== this.subject) {
      this.subject = info.subject;
      change.subject = info.subject;
    }
    for (const user of info.users) this.applyUser(user);
    const after = new Map(this.participants().map((p) => [p.address, p]));
    for (const [address, p] of after) {
      const old = before.get(address);
      if (!old) change.joined.push(p);
      else if (old.displayName !== p.displayName || old.role !== p.role) change.changed.push(p);
    }
    for (const address of before.keys()) if (!after.has(address)) change.left.push(address);
    return change;
  }

  private applyUser(user: UserInfo): void {
    if (user.state === 'deleted') {
      this.members.delete(user.address);
      return;
    }
    let member = this.members.get(user.address);
    if (!member || user.state === 'full') {
      member = { address: user.address, roles: [], endpoints: new Map() };
      this.members.set(user.address, member);
    }
    if (user.displayName !== undefined) member.displayName = user.displayName || undefined;
    if (user.roles !== undefined) member.roles = user.roles;
    for (const e of user.endpoints) {
      if (e.state === 'deleted') {
        member.endpoints.delete(e.entity);
        continue;
      }
      const known = e.state === 'full' ? undefined : member.endpoints.get(e.entity);
      member.endpoints.set(e.entity, { sessionType: e.sessionType ?? known?.sessionType, status: e.status ?? known?.status });
    }
  }
}
