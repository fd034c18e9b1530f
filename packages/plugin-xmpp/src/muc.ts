import { ConnectionError, MessageError, type ChatParticipant, type OutgoingMessage, type TypingState } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from './address.js';
import { chatStateElement, readChatState } from './chat-states.js';
import { delayedAt } from './delay.js';
import type { ArchivedMessage } from './mam.js';
import { RoomArchive } from './muc-archive.js';
import type { Session } from './session.js';
import { MAX_BODY_BYTES, xmlSafe } from './text.js';

/** XEP-0045 Multi-User Chat. */
export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';

interface Occupant extends ChatParticipant {
  affiliation: string;
  mucRole: string;
}

interface Room {
  jid: string;
  /** The name the user joined it by ("#lounge"): the core's conversation is keyed by it. */
  label: string;
  nick: string;
  joined: boolean;
  occupants: Map<string, Occupant>;
  join?: { resolve(): void; reject(error: Error): void; timer: NodeJS.Timeout };
  /** Ids of groupchat messages we sent, to recognise the room's reflection of them (§7.4). */
  sent: Set<string>;
  /** The room keeps an archive (XEP-0313): fetched on join instead of its short history. */
  archived: boolean;
  /** Live messages held while the archive is fetched, so they come after it. */
  holding?: Element[];
}

/**
 * The display role: affiliation first (it outlives the visit), then the
 * role in the room. The label keeps XEP-0045's own words.
 */
export function participantRole(affiliation: string, role: string): Pick<ChatParticipant, 'role' | 'roleLabel'> {
  const label = [affiliation !== 'none' ? affiliation : undefined, role !== 'none' ? role : undefined].filter(Boolean).join(', ');
  let mapped: ChatParticipant['role'];
  if (affiliation === 'owner') mapped = 'owner';
  else if (affiliation === 'admin') mapped = 'admin';
  else if (role === 'moderator') mapped = 'moderator';
  else if (affiliation === 'member') mapped = 'member';
  else if (role === 'participant') mapped = 'voice';
  else if (role === 'visitor') mapped = 'visitor';
  const out: Pick<ChatParticipant, 'role' | 'roleLabel'> = {};
  if (mapped !== undefined) out.role = mapped;
  if (label !== '') out.roleLabel = label;
  return out;
}

function statusCodes(x: Element | undefined): Set<string> {
  return new Set((x?.getChildren('status') ?? []).map((s) => String(s.attrs.code)));
}

/** §7.2.6 / §7.2.7 … join errors, as the user should read them. */
function joinError(room: string, stanza: Element): Error {
  const error = stanza.getChild('error');
  const condition = error?.getChildElements().find((c) => c.name !== 'text')?.name ?? 'undefined-condition';
  const text = error?.getChildText('text') ?? undefined;
  const reasons: Record<string, string> = {
    'not-authorized': 'a password is required, or the password is wrong',
    forbidden: 'you are banned from this room',
    'registration-required': 'the room is for members only',
    conflict: 'that nickname is already in use in the room',
    'service-unavailable': 'the room is full',
    'item-not-found': 'the room does not exist and cannot be created',
    'not-allowed': 'room creation is restricted',
    'not-acceptable': 'the nickname is not acceptable',
  };
  return new MessageError('send-failed', `Cannot join ${room}: ${reasons[condition] ?? condition}${text ? ` (${text})` : ''}`);
}

export class Muc {
  private readonly rooms = new Map<string, Room>();
  readonly archive: RoomArchive;

  constructor(
    private readonly session: Session,
    /** The server's MUC service, for room names given without a domain. */
    private readonly service: () => Promise<string | undefined>,
    private readonly defaultNick: () => string,
    /** Whether a room keeps an archive (its disco#info lists XEP-0313), and how many days a first join fetches (0: none). */
    private readonly archiving: { supported(room: string): Promise<boolean>; days(): number } = { supported: async () => false, days: () => 0 },
  ) {
    this.archive = new RoomArchive(session);
  }

  isRoom(bare: string): boolean {
    return this.rooms.has(bare);
  }

  /** "#room" or "room" or "room@conference.example.org" → the room's bare JID. */
  async roomJid(name: string): Promise<string> {
    const trimmed = name.trim().replace(/^#/, '');
    if (trimmed.includes('@')) {
      const address = parseAddress(trimmed);
      if (address === undefined || address.resource !== '' || address.local === '') throw new MessageError('no-route', `"${name}" is not a room address`);
      return address.bare;
    }
    const service = await this.service();
    if (service === undefined) throw new MessageError('not-supported', 'This server offers no group chat service; give the room as room@service');
    const address = parseAddress(`${trimmed}@${service}`);
    if (address === undefined) throw new MessageError('no-route', `"${name}" is not a room name`);
    return address.bare;
  }

  /** §7.2: enter a room; resolves once the room sends our own presence back. */
  async join(name: string, options: { password?: string; nick?: string } = {}): Promise<string> {
    const jid = await this.roomJid(name);
    const existing = this.rooms.get(jid);
    if (existing?.joined === true) return jid;
    const nick = xmlSafe(options.nick ?? this.defaultNick()).trim();
    if (nick === '' || parseAddress(`${jid}/${nick}`) === undefined) throw new MessageError('send-failed', `"${nick}" is not a usable nickname`);
    const archived = this.archiving.days() > 0 && (await this.archiving.supported(jid));
    const room: Room = { jid, label: name, nick, joined: false, occupants: new Map(), sent: new Set(), archived };
    this.rooms.set(jid, room);
    // §7.2.14: a room with an archive sends no history; the archive has it all, each message with its id.
    const x = xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: archived ? '0' : '50' }));
    if (archived) room.holding = [];
    if (options.password !== undefined && options.password !== '') x.append(xml('password', {}, xmlSafe(options.password)));
    const entered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new MessageError('send-timeout', `The room ${jid} did not answer`)), 20_000);
      room.join = { resolve, reject, timer };
    });
    try {
      await this.session.send(xml('presence', { to: `${jid}/${nick}` }, x));
      await entered;
    } catch (error) {
      if (room.join !== undefined) clearTimeout(room.join.timer);
      this.rooms.delete(jid);
      throw error;
    } finally {
      if (room.join !== undefined) clearTimeout(room.join.timer);
      delete room.join;
    }
    if (archived) await this.catchUp(room);
    return jid;
  }

  /** The room's archive since we were last there, then what came live meanwhile. */
  private async catchUp(room: Room): Promise<void> {
    try {
      await this.archive.catchUp(room.jid, this.archiving.days(), (item) => this.archivedMessage(room, item));
    } finally {
      const held = room.holding ?? [];
      delete room.holding;
      for (const stanza of held) this.handleMessage(stanza);
    }
  }

  private archivedMessage(room: Room, item: ArchivedMessage): void {
    const stanza = item.message;
    if (stanza.attrs.type !== 'groupchat') return;
    const body = stanza.getChildText('body');
    if (body === null || body === undefined || body === '') return;
    const from = parseAddress(stanza.attrs.from as string | undefined);
    if (from === undefined || from.bare !== room.jid || from.resource === '') return;
    const id = stanza.attrs.id;
    const timestamp = item.timestamp ?? delayedAt(stanza);
    this.session.ctx.receiveMessage({
      conversation: { kind: 'chat', room: room.label },
      sender: from.resource,
      text: body,
      ...(typeof id === 'string' && id !== '' ? { protocolId: id } : {}),
      ...(timestamp === undefined ? {} : { timestamp }),
      flags: { delayed: true },
      ...(from.resource === room.nick ? { fromSelf: true } : {}),
    });
  }

  async leave(name: string): Promise<void> {
    const jid = await this.roomJid(name);
    const room = this.rooms.get(jid);
    if (room === undefined) return;
    this.rooms.delete(jid);
    await this.session.send(xml('presence', { to: `${jid}/${room.nick}`, type: 'unavailable' })).catch(() => {});
    this.session.ctx.chats.left(room.label);
  }

  async send(name: string, message: OutgoingMessage): Promise<{ protocolId: string }> {
    const room = this.rooms.get(await this.roomJid(name));
    if (room === undefined || !room.joined) throw new MessageError('no-route', `Not in the room ${name}`);
    const text = xmlSafe(message.flags.action === true ? `/me ${message.text}` : message.text);
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new MessageError('send-failed', 'The message is too long for XMPP servers');
    const id = xmlSafe(message.id);
    room.sent.add(id);
    await this.sendOrFail(xml('message', { type: 'groupchat', to: room.jid, id }, xml('body', {}, text)));
    return { protocolId: id };
  }

  /**
   * Our chat state to a room we are in (XEP-0085 §5.5): a groupchat message
   * with the state only, and a hint that archives need not keep it (XEP-0334).
   */
  async typing(name: string, state: TypingState): Promise<void> {
    const room = this.rooms.get(await this.roomJid(name));
    if (room === undefined || !room.joined) return;
    await this.sendOrFail(xml('message', { type: 'groupchat', to: room.jid }, chatStateElement(state), xml('no-store', { xmlns: 'urn:xmpp:hints' })));
  }

  async setTopic(name: string, topic: string): Promise<void> {
    const jid = await this.roomJid(name);
    await this.sendOrFail(xml('message', { type: 'groupchat', to: jid }, xml('subject', {}, xmlSafe(topic))));
  }

  /** §7.6: change our nickname in a room. */
  async changeNick(name: string, nick: string): Promise<void> {
    const room = this.rooms.get(await this.roomJid(name));
    const clean = xmlSafe(nick).trim();
    if (room === undefined) throw new MessageError('no-route', `Not in the room ${name}`);
    if (clean === '' || parseAddress(`${room.jid}/${clean}`) === undefined) throw new MessageError('send-failed', `"${nick}" is not a usable nickname`);
    await this.sendOrFail(xml('presence', { to: `${room.jid}/${clean}` }));
  }

  /** §8.2: a moderator kicks an occupant (role none). */
  async kick(name: string, nick: string, reason?: string): Promise<void> {
    const jid = await this.roomJid(name);
    const item = xml('item', { nick: xmlSafe(nick), role: 'none' });
    if (reason !== undefined && reason !== '') item.append(xml('reason', {}, xmlSafe(reason)));
    await this.session.iqSet(xml('query', { xmlns: NS_MUC_ADMIN }, item), jid);
  }

  handlePresence(stanza: Element): void {
    const from = parseAddress(stanza.attrs.from as string | undefined);
    const room = from === undefined ? undefined : this.rooms.get(from.bare);
    if (from === undefined || room === undefined) return;
    const type = stanza.attrs.type as string | undefined;
    if (type === 'error') {
      if (room.join !== undefined) room.join.reject(joinError(room.jid, stanza));
      else this.session.ctx.chats.system(room.label, joinError(room.jid, stanza).message, true);
      return;
    }
    const nick = from.resource;
    if (nick === '') return;
    const x = stanza.getChild('x', NS_MUC_USER);
    const codes = statusCodes(x);
    const item = x?.getChild('item');
    const self = codes.has('110') || nick === room.nick;
    const affiliation = String(item?.attrs.affiliation ?? 'none');
    const mucRole = String(item?.attrs.role ?? 'none');

    if (type === 'unavailable') {
      room.occupants.delete(nick);
      if (codes.has('303') && typeof item?.attrs.nick === 'string') {
        // §7.6.3: a nickname change is an unavailable for the old nick then an available for the new one.
        const newNick = item.attrs.nick;
        if (self) room.nick = newNick;
        room.occupants.set(newNick, { nick: newNick, affiliation, mucRole, ...participantRole(affiliation, mucRole) });
        if (room.joined) this.session.ctx.chats.participantRenamed(room.label, nick, newNick);
        return;
      }
      const kicked = codes.has('307') || codes.has('301');
      const reason = item?.getChildText('reason') ?? undefined;
      if (self) {
        this.rooms.delete(room.jid);
        if (room.join !== undefined) room.join.reject(new MessageError('send-failed', `The room ${room.jid} refused us`));
        this.session.ctx.chats.left(room.label, kicked ? `Kicked${reason ? `: ${reason}` : ''}` : reason);
        return;
      }
      if (room.joined) this.session.ctx.chats.participantLeft(room.label, nick, reason, kicked ? 'kick' : 'part');
      return;
    }

    const occupant: Occupant = { nick, affiliation, mucRole, ...participantRole(affiliation, mucRole) };
    const realJid = parseAddress(item?.attrs.jid as string | undefined);
    if (realJid !== undefined) occupant.realName = realJid.bare;
    const known = room.occupants.has(nick);
    room.occupants.set(nick, occupant);
    if (self && !room.joined) {
      // §10.1.2: a room we just created stays locked until its owner accepts
      // a configuration; take the defaults (an "instant room", §10.1.3).
      const unlocked = codes.has('201') ? this.acceptDefaultConfiguration(room) : Promise.resolve();
      // §7.2.3: our own presence comes last, after everyone already in the room.
      room.joined = true;
      this.session.ctx.chats.joined(room.label, { nick: room.nick });
      this.session.ctx.chats.participants(room.label, [...room.occupants.values()].map(publicParticipant));
      const join = room.join;
      void unlocked.then(() => join?.resolve());
      return;
    }
    if (!room.joined) return;
    if (known) this.session.ctx.chats.participants(room.label, [...room.occupants.values()].map(publicParticipant));
    else this.session.ctx.chats.participantJoined(room.label, publicParticipant(occupant));
  }

  private async acceptDefaultConfiguration(room: Room): Promise<void> {
    try {
      await this.session.iqSet(xml('query', { xmlns: NS_MUC_OWNER }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })), room.jid);
    } catch (error) {
      this.session.ctx.chats.system(room.label, `The new room could not be unlocked: ${String(error)}`, true);
    }
  }

  handleMessage(stanza: Element): void {
    const from = parseAddress(stanza.attrs.from as string | undefined);
    const room = from === undefined ? undefined : this.rooms.get(from.bare);
    if (from === undefined || room === undefined) {
      this.session.log.debug('Groupchat message from a room we are not in', { from: String(stanza.attrs.from) });
      return;
    }
    if (this.archive.handleResult(stanza)) return;
    if (room.holding !== undefined && stanza.attrs.type === 'groupchat') {
      room.holding.push(stanza);
      return;
    }
    // Shown already from the room's archive: its id from the room says so.
    if (stanza.attrs.type === 'groupchat' && !this.archive.live(room.jid, stanza)) return;
    if (stanza.attrs.type === 'error') {
      const condition = stanza.getChild('error')?.getChildElements()[0]?.name ?? 'undefined-condition';
      this.session.ctx.chats.system(room.label, `The room refused a message (${condition})`, true);
      return;
    }
    // XEP-0085 §5.5: an occupant's chat state, sent to the room and reflected to everyone; ours
    // comes back too, and one in the room's history (delayed) belongs to its moment.
    const state = stanza.attrs.type === 'groupchat' && from.resource !== '' ? readChatState(stanza) : undefined;
    if (state !== undefined && from.resource !== room.nick && room.joined && delayedAt(stanza) === undefined) this.session.ctx.chats.typing?.(room.label, from.resource, state);
    const body = stanza.getChildText('body');
    const subject = stanza.getChild('subject');
    // §8.1: a subject change is a message with <subject/> and no body.
    if (subject !== undefined && (body === null || body === undefined || body === '')) {
      this.session.ctx.chats.topic(room.label, subject.text(), from.resource || undefined);
      return;
    }
    if (body === null || body === undefined || body === '') return;
    const id = stanza.attrs.id;
    if (typeof id === 'string' && room.sent.delete(id)) return; // our own message reflected
    const delayed = delayedAt(stanza);
    const sender = from.resource === '' ? room.jid : from.resource;
    this.session.ctx.receiveMessage({
      conversation: { kind: 'chat', room: room.label },
      sender,
      text: body,
      ...(typeof id === 'string' && id !== '' ? { protocolId: id } : {}),
      ...(delayed === undefined ? {} : { timestamp: delayed }),
      flags: { ...(delayed === undefined ? {} : { delayed: true }), ...(from.resource === '' ? { system: true } : {}) },
      ...(from.resource === room.nick ? { fromSelf: true } : {}),
    });
  }

  /** Our connection dropped: every room is left (a reconnect joins again through the core). */
  clear(reason: string): void {
    for (const room of this.rooms.values()) {
      if (room.joined) this.session.ctx.chats.left(room.label, reason);
    }
    this.rooms.clear();
  }

  private async sendOrFail(stanza: Element): Promise<void> {
    try {
      await this.session.send(stanza);
    } catch (error) {
      throw ConnectionError.network('Not connected', { cause: error });
    }
  }
}

function publicParticipant(o: Occupant): ChatParticipant {
  const p: ChatParticipant = { nick: o.nick };
  if (o.role !== undefined) p.role = o.role;
  if (o.roleLabel !== undefined) p.roleLabel = o.roleLabel;
  if (o.realName !== undefined) p.realName = o.realName;
  return p;
}
