/**
 * Group conversations without an MCU, as Office Communicator 2005 holds
 * them and pidgin-sipe still does on servers it takes for OCS 2005: every
 * pair of parties has its own IM dialog, all under one Call-ID; a message
 * goes to each party in its dialog; the roster manager invites newcomers
 * (INVITE with `Roster-Manager` and `EndPoints`), a newcomer sends a
 * triggered INVITE to each party the list names, and a party leaves with a
 * BYE on each of its dialogs. Roster-manager election is `application/x-ms-mim`
 * INFO (RequestRM / SetRM), and a party that is not the roster manager asks
 * it to invite someone with a REFER.
 *
 * In the core, such a conversation is a group chat whose room is
 * `multiparty:<Call-ID>`. A one-to-one IM whose Call-ID a group INVITE
 * reuses (a third person added to it) continues as that group.
 *
 * The dialogs end with the connection, so each group's Call-ID and parties
 * are kept in the account's state: when the core rejoins the chat after a
 * reconnect, the group is made again under the same Call-ID, with us as
 * roster manager inviting every party it had (as pidgin-sipe starts a new
 * session for the chat and invites into it), and the conversation goes on
 * in the same chat.
 */
import { randomBytes } from 'node:crypto';
import { MessageError, type ChatParticipant, type ConnectionContext, type OutgoingMessage, type TypingState } from '@parley/core';
import { peerAddress, printable } from './address.js';
import { fromHtml } from './html.js';
import { failureText } from './im-session.js';
import { addressOf, formatEndPoints, MAX_PARTIES, MULTIPARTY_REQUIRE, parseEndPoints, rosterManagerOf, usableCallId, type Endpoint } from './multiparty-headers.js';
import type { IncomingRequest, SipEndpoint, SipResponse } from './sip/endpoint.js';
import { headerValue, type RawMessage } from './sip/headers.js';
import { KEYBOARD_ACTIVITY_TYPE, keyboardActivity, parseTyping } from './typing.js';
import { child, escapeXml, parseXml } from './xml.js';

export const MULTIPARTY_ROOM_PREFIX = 'multiparty:';
export const MIM_TYPE = 'application/x-ms-mim';
const MIM_NS = 'http://schemas.microsoft.com/sip/multiparty/';
/** Most group conversations held at once: more INVITEs with new Call-IDs are declined. */
const MAX_GROUPS = 64;
/** The account-state key of the groups to make again after a reconnect. */
const KEPT_GROUPS = 'multipartyGroups';

/** What is kept of a group across connections. */
interface KeptGroup {
  room: string;
  callId: string;
  media: Media;
  parties: string[];
}

type Media = 'message' | 'x-ms-message';

interface Dialog {
  localTag: string;
  remoteTag: string;
  remoteTarget: string;
  cseq: number;
}

interface Party {
  address: string;
  epid?: string;
  dialogs: Dialog[];
  /** An INVITE of ours to this party is under way. */
  inviting: boolean;
  /** Shown in the core's participant list. */
  present: boolean;
}

interface Group {
  callId: string;
  room: string;
  media: Media;
  rosterManager: string | undefined;
  parties: Map<string, Party>;
  open: boolean;
}

/** A one-to-one IM dialog handed over when a group INVITE reuses its Call-ID. */
export interface AdoptedDialog {
  peer: string;
  localTag: string;
  remoteTag: string;
  remoteTarget: string;
  cseq: number;
}

export interface MultipartyOptions {
  endpoint: SipEndpoint;
  ctx: Pick<ConnectionContext, 'receiveMessage' | 'messageNotDelivered' | 'notice' | 'log' | 'chats' | 'getState' | 'setState'>;
  /** Our address, user@host. */
  self: string;
  contact: () => string;
  local: () => { address: string; port: number };
  /** Takes the one-to-one dialog with this Call-ID away from the IM sessions, if there is one. */
  adoptIm: (callId: string) => AdoptedDialog | undefined;
  /** The one-to-one dialog with a peer, for turning it into a group. */
  adoptImWith: (peer: string) => (AdoptedDialog & { callId: string }) | undefined;
}

const tag = () => randomBytes(5).toString('hex');
const uriIn = (header: string | undefined) => /<([^>]+)>/.exec(header ?? '')?.[1] ?? (header ?? '').split(';')[0]!.trim();
const tagIn = (header: string | undefined) => /;\s*tag=([^;\s]+)/i.exec(header ?? '')?.[1];
const SAFE_TARGET = /^sips?:[^\s<>"\x00-\x1f\x7f]+$/i;

export function isMultipartyRoom(room: string): boolean {
  return room.toLowerCase().startsWith(MULTIPARTY_ROOM_PREFIX);
}

export class MultipartyIm {
  private readonly groups = new Map<string, Group>();
  /** Sends waiting for the one before, per group, so that every party gets them in order. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly o: MultipartyOptions) {}

  /** The group conversations held now, by room (for tests and diagnostics). */
  rooms(): string[] {
    return [...this.groups.values()].map((g) => g.room);
  }

  /** Parties of a group by address, present or still being invited (for tests and diagnostics). */
  partiesOf(room: string): string[] {
    return [...(this.byRoom(room)?.parties.keys() ?? [])];
  }

  private byRoom(room: string): Group | undefined {
    const wanted = room.toLowerCase();
    for (const g of this.groups.values()) if (g.room.toLowerCase() === wanted) return g;
    return undefined;
  }

  private participants(group: Group): ChatParticipant[] {
    return [{ nick: this.o.self }, ...[...group.parties.values()].filter((p) => p.present).map((p) => ({ nick: p.address }))];
  }

  private title(group: Group): string {
    const others = [...group.parties.keys()];
    return `Group conversation with ${others.slice(0, 4).join(', ')}${others.length > 4 ? ` and ${others.length - 4} more` : ''}`;
  }

  private newGroup(callId: string, media: Media, rosterManager: string | undefined): Group {
    const group: Group = { callId, room: `${MULTIPARTY_ROOM_PREFIX}${callId}`, media, rosterManager, parties: new Map(), open: true };
    this.groups.set(callId, group);
    return group;
  }

  private party(group: Group, address: string, epid?: string): Party {
    let party = group.parties.get(address);
    if (!party) {
      party = { address, dialogs: [], inviting: false, present: false };
      group.parties.set(address, party);
    }
    if (epid && !party.epid) party.epid = epid;
    return party;
  }

  private sdp(media: Media): string {
    const { address, port } = this.o.local();
    return ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=session', `c=IN IP4 ${address}`, 't=0 0', `m=${media} ${port} sip sip:${this.o.self}`, 'a=accept-types:text/plain text/html application/im-iscomposing+xml', ''].join('\r\n');
  }

  private announce(group: Group, party: Party): void {
    if (party.present || party.dialogs.length === 0 || !group.open) return;
    party.present = true;
    this.o.ctx.chats.participantJoined(group.room, { nick: party.address });
    this.keep(group);
  }

  // ---- kept across connections ------------------------------------------------------

  private kept(): KeptGroup[] {
    const value = this.o.ctx.getState<unknown>(KEPT_GROUPS);
    if (!Array.isArray(value)) return [];
    return value.filter(
      (g): g is KeptGroup =>
        typeof g === 'object' && g !== null && typeof g.room === 'string' && isMultipartyRoom(g.room) && usableCallId(g.callId) && (g.media === 'message' || g.media === 'x-ms-message') && Array.isArray(g.parties) && g.parties.every((p: unknown) => typeof p === 'string'),
    );
  }

  /** Writes down a group's Call-ID and the parties in it now (those with a dialog), for a rejoin after a reconnect. */
  private keep(group: Group): void {
    const parties = [...group.parties.values()].filter((p) => p.dialogs.length > 0).map((p) => p.address);
    const others = this.kept().filter((g) => g.callId !== group.callId);
    this.o.ctx.setState(KEPT_GROUPS, [...others, { room: group.room, callId: group.callId, media: group.media, parties }].slice(-MAX_GROUPS));
  }

  private forget(callId: string): void {
    const kept = this.kept();
    if (kept.some((g) => g.callId === callId)) this.o.ctx.setState(KEPT_GROUPS, kept.filter((g) => g.callId !== callId));
  }

  /**
   * Makes a group we were in before the connection dropped again, under the
   * same Call-ID (so the chat and each party's conversation go on), as its
   * roster manager: an INVITE to each party it had. Resolves false when
   * there is no such group to make (it was left, or had nobody else in it).
   */
  async rejoin(room: string): Promise<boolean> {
    if (this.byRoom(room)) return true;
    const kept = this.kept().find((g) => g.room.toLowerCase() === room.toLowerCase());
    const addresses = (kept?.parties ?? []).filter((a) => a !== this.o.self).slice(0, MAX_PARTIES - 1);
    if (!kept || addresses.length === 0 || this.groups.size >= MAX_GROUPS || this.groups.has(kept.callId)) {
      if (kept) this.forget(kept.callId);
      return false;
    }
    const group = this.newGroup(kept.callId, kept.media, this.o.self);
    const invitees = addresses.map((a) => this.party(group, a));
    for (const p of invitees) p.inviting = true;
    this.o.ctx.chats.joined(group.room, { title: this.title(group), nick: this.o.self });
    this.o.ctx.chats.participants(group.room, this.participants(group));
    this.o.ctx.log.info(`Rejoining ${group.room}: inviting ${addresses.join(', ')} again`);
    await Promise.all(invitees.map((p) => this.sendInvite(group, p, { triggered: false })));
    // Nobody could be reached: the chat stays, and whoever invites us into this Call-ID later is back in it.
    if (group.open && ![...group.parties.values()].some((p) => p.dialogs.length > 0)) this.o.ctx.chats.system(group.room, 'Nobody from this group conversation could be reached after the reconnect', true);
    return true;
  }

  private depart(group: Group, party: Party, reason?: string): void {
    if (party.dialogs.length > 0 || party.inviting) return;
    group.parties.delete(party.address);
    if (group.rosterManager === party.address) group.rosterManager = undefined;
    if (party.present && group.open) this.o.ctx.chats.participantLeft(group.room, party.address, reason, 'part');
    if (group.open) this.keep(group);
  }

  private endPointsFor(group: Group): string {
    const list: Endpoint[] = [{ address: this.o.self }];
    for (const p of group.parties.values()) if (p.dialogs.length > 0 || p.inviting) list.push(p.epid ? { address: p.address, epid: p.epid } : { address: p.address });
    return formatEndPoints(list);
  }

  // ---- incoming -----------------------------------------------------------------

  /** Handles a request in a group we hold (`holds`), or a group INVITE; returns false for what is not ours. */
  async handle(request: IncomingRequest, multipartyInvite: boolean): Promise<boolean> {
    const raw = request.raw;
    const callId = headerValue(raw, 'Call-ID');
    const group = callId !== undefined ? this.groups.get(callId) : undefined;
    const method = request.message.method;
    if (method === 'INVITE' && (group || multipartyInvite)) {
      await this.incomingInvite(request, group);
      return true;
    }
    if (!group) return false;
    const from = addressOf(`<${uriIn(headerValue(raw, 'From'))}>`);
    switch (method) {
      case 'MESSAGE':
        await this.incomingMessage(request, group, from);
        return true;
      case 'INFO':
        await this.incomingInfo(request, group, from);
        return true;
      case 'BYE':
        await this.incomingBye(request, group, from);
        return true;
      case 'REFER':
        await this.incomingRefer(request, group, from);
        return true;
      case 'CANCEL':
        await this.o.endpoint.respond(request, 200, 'OK');
        return true;
      case 'NOTIFY': {
        // How an invitation we asked for went (`Event: refer`, a message/sipfrag): nothing to show.
        const refer = /^\s*refer\b/i.test(headerValue(raw, 'Event') ?? '');
        await this.o.endpoint.respond(request, refer ? 200 : 489, refer ? 'OK' : 'Bad Event');
        return true;
      }
      case 'ACK':
        return true;
      default:
        return false;
    }
  }

  private async incomingInvite(request: IncomingRequest, existing: Group | undefined): Promise<void> {
    const raw = request.raw;
    const { endpoint, ctx } = this.o;
    const callId = headerValue(raw, 'Call-ID');
    const from = addressOf(`<${uriIn(headerValue(raw, 'From'))}>`);
    if (!usableCallId(callId) || from === undefined || from === this.o.self) {
      ctx.log.warn(`Refusing a group conversation INVITE with an unusable Call-ID or sender (${printable(headerValue(raw, 'From') ?? '')})`);
      await endpoint.respond(request, 400, 'Bad Request');
      return;
    }
    const media = /^m=(x-ms-message|message) \d+ sip /m.exec(raw.body)?.[1] as Media | undefined;
    if (!(headerValue(raw, 'Content-Type') ?? '').toLowerCase().startsWith('application/sdp') || !media) {
      await endpoint.respond(request, 488, 'Not Acceptable Here', ['Warning: 304 parley "Only instant messaging sessions are supported"']);
      return;
    }
    const list = parseEndPoints(headerValue(raw, 'EndPoints'));
    if (list.tooMany) {
      ctx.log.warn(`Declining a group conversation from ${from}: it names more than ${MAX_PARTIES} parties`);
      await endpoint.respond(request, 486, 'Busy Here', [`Warning: 399 parley "Group conversations without a conference server are limited to ${MAX_PARTIES} parties"`]);
      ctx.notice(`${from} invited you to a group conversation with more than ${MAX_PARTIES} parties; it was declined`, { kind: 'im', peer: from }, true);
      return;
    }
    if (list.rejected > 0) ctx.log.warn(`Ignoring ${list.rejected} EndPoints entries from ${from} that are not SIP addresses`);
    let group = existing;
    let adopted: AdoptedDialog | undefined;
    if (!group) {
      if (this.groups.size >= MAX_GROUPS) {
        await endpoint.respond(request, 486, 'Busy Here');
        return;
      }
      adopted = this.o.adoptIm(callId);
      group = this.newGroup(callId, media, rosterManagerOf(raw));
    } else {
      const rm = rosterManagerOf(raw);
      if (rm) group.rosterManager = rm;
    }
    const fromEpid = /;\s*epid=([A-Za-z0-9._~-]{1,64})/i.exec(headerValue(raw, 'From') ?? '')?.[1];
    const inviter = this.party(group, from, fromEpid);
    // A re-INVITE in a dialog we have: answered as it is.
    const known = inviter.dialogs.find((d) => d.localTag === tagIn(headerValue(raw, 'To')) && d.remoteTag === tagIn(headerValue(raw, 'From')));
    if (known) {
      await endpoint.respond(request, 200, 'OK', [this.o.contact(), 'Supported: ms-text-format', `Supported: ${MULTIPARTY_REQUIRE}`], { toTag: known.localTag, body: { contentType: 'application/sdp', content: this.sdp(group.media) } });
      return;
    }
    const localTag = tag();
    const remoteTarget = uriIn(headerValue(raw, 'Contact'));
    inviter.dialogs.push({ localTag, remoteTag: tagIn(headerValue(raw, 'From')) ?? '', remoteTarget: SAFE_TARGET.test(remoteTarget) ? remoteTarget : `sip:${from}`, cseq: 0 });
    await endpoint.respond(request, 200, 'OK', [this.o.contact(), 'Supported: ms-text-format', `Supported: ${MULTIPARTY_REQUIRE}`], {
      toTag: localTag,
      body: { contentType: 'application/sdp', content: this.sdp(group.media) },
    });
    if (!existing) {
      if (adopted) {
        const peer = this.party(group, adopted.peer);
        peer.dialogs.push({ localTag: adopted.localTag, remoteTag: adopted.remoteTag, remoteTarget: adopted.remoteTarget, cseq: adopted.cseq });
        peer.present = true;
      }
      inviter.present = true;
      // A running IM taken over: the group chat starts with its messages (core API 1.9).
      ctx.chats.joined(group.room, { title: this.title(group), nick: this.o.self, ...(adopted ? { continues: adopted.peer } : {}) });
      ctx.chats.participants(group.room, this.participants(group));
      this.keep(group);
      if (adopted) ctx.notice(`${from} added more people: the conversation with ${adopted.peer} continues as a group conversation`, { kind: 'im', peer: adopted.peer });
    } else {
      this.announce(group, inviter);
    }
    const first = /;\s*ms-body=([A-Za-z0-9+/=\s]*)/i.exec(headerValue(raw, 'ms-text-format') ?? '')?.[1];
    if (first !== undefined && first.trim() !== '') {
      const type = (headerValue(raw, 'ms-text-format') ?? '').split(';')[0]!.trim().toLowerCase();
      this.deliver(group, from, type, Buffer.from(first.replace(/\s/g, ''), 'base64').toString('utf8'), `${callId}/${from}/${request.message.cseq}`);
    }
    // A newcomer connects to every party the list names that it has no dialog with (a triggered INVITE).
    for (const e of list.endpoints) {
      if (e.address === this.o.self || e.address === from) continue;
      const party = this.party(group, e.address, e.epid);
      if (party.dialogs.length === 0 && !party.inviting) void this.sendInvite(group, party, { triggered: true });
    }
  }

  private async incomingMessage(request: IncomingRequest, group: Group, from: string | undefined): Promise<void> {
    const raw = request.raw;
    const party = from ? group.parties.get(from) : undefined;
    if (!from || !party || party.dialogs.length === 0) {
      await this.o.endpoint.respond(request, 481, 'Call Leg/Transaction Does Not Exist');
      return;
    }
    const type = (headerValue(raw, 'Content-Type') ?? 'text/plain').toLowerCase();
    const typing = parseTyping(type, raw.body);
    if (typing !== undefined) {
      await this.o.endpoint.respond(request, 200, 'OK');
      this.partyTyping(group, from, typing);
      return;
    }
    const base = type.split(';')[0]!.trim();
    if (base !== 'text/plain' && base !== 'text/html') {
      await this.o.endpoint.respond(request, 415, 'Unsupported Media Type', ['Accept: text/plain, text/html, application/im-iscomposing+xml']);
      this.o.ctx.chats.system(group.room, `${from} sent a message of a kind that cannot be shown (${base})`, true);
      return;
    }
    await this.o.endpoint.respond(request, 200, 'OK');
    this.deliver(group, from, base, raw.body, `${group.callId}/${from}/${request.message.cseq}`);
  }

  private deliver(group: Group, from: string, type: string, body: string, protocolId: string): void {
    const conversation = { kind: 'chat' as const, room: group.room };
    if (type === 'text/html') {
      const { text, formatted } = fromHtml(body);
      this.o.ctx.receiveMessage({ conversation, sender: from, text, formatted, protocolId });
      return;
    }
    this.o.ctx.receiveMessage({ conversation, sender: from, text: body, protocolId });
  }

  /** Roster-manager election ([MS-SIP] multiparty): we never bid, so we let whoever asks become it. */
  private async incomingInfo(request: IncomingRequest, group: Group, from: string | undefined): Promise<void> {
    const raw = request.raw;
    if (!(headerValue(raw, 'Content-Type') ?? '').toLowerCase().startsWith(MIM_TYPE)) {
      await this.o.endpoint.respond(request, 200, 'OK');
      // Each party's typing comes in its own dialog, as in a two-party IM; anything else in an INFO is answered and dropped.
      const typing = parseTyping(headerValue(raw, 'Content-Type') ?? '', raw.body);
      if (typing !== undefined && from !== undefined && group.parties.get(from)?.dialogs.length) this.partyTyping(group, from, typing);
      return;
    }
    let action;
    try {
      action = parseXml(raw.body, { maxChars: 4096, maxDepth: 4, maxElements: 8 });
    } catch {
      await this.o.endpoint.respond(request, 400, 'Bad Request');
      return;
    }
    const self = `sip:${escapeXml(this.o.self)}`;
    const requestRm = action.name === 'action' && action.ns === MIM_NS ? child(action, 'RequestRM') : undefined;
    const setRm = action.name === 'action' && action.ns === MIM_NS ? child(action, 'SetRM') : undefined;
    const answer = (inner: string) =>
      this.o.endpoint.respond(request, 200, 'OK', [], { body: { contentType: MIM_TYPE, content: `<?xml version="1.0"?>\r\n<action xmlns="${MIM_NS}">${inner}</action>\r\n` } });
    if (requestRm) {
      await answer(`<RequestRMResponse uri="${self}" allow="true"/>`);
      return;
    }
    if (setRm) {
      const rm = addressOf(`<${setRm.attrs.uri ?? ''}>`);
      if (rm && (rm === from || rm === this.o.self)) group.rosterManager = rm;
      else this.o.ctx.log.warn(`Ignoring a SetRM from ${from ?? 'an unknown party'} naming ${printable(setRm.attrs.uri ?? '')}`);
      await answer(`<SetRMResponse uri="${self}"/>`);
      return;
    }
    await this.o.endpoint.respond(request, 200, 'OK');
  }

  private async incomingBye(request: IncomingRequest, group: Group, from: string | undefined): Promise<void> {
    const raw = request.raw;
    const party = from ? group.parties.get(from) : undefined;
    const remoteTag = tagIn(headerValue(raw, 'From'));
    const localTag = tagIn(headerValue(raw, 'To'));
    const index = party?.dialogs.findIndex((d) => d.remoteTag === remoteTag && d.localTag === localTag) ?? -1;
    if (!party || index < 0) {
      // A BYE for a dialog we never completed (both sides invited each other at once): nothing to end.
      await this.o.endpoint.respond(request, 481, 'Call Leg/Transaction Does Not Exist');
      return;
    }
    // A party that ends a dialog leaves the conversation. After both sides invited each other at
    // once it may hold a second dialog with us that it no longer uses (pidgin-sipe keeps one per
    // party): that one goes too.
    party.dialogs = [];
    await this.o.endpoint.respond(request, 200, 'OK');
    this.depart(group, party);
  }

  /** A party asks us, the roster manager, to invite someone. */
  private async incomingRefer(request: IncomingRequest, group: Group, from: string | undefined): Promise<void> {
    const raw = request.raw;
    const target = addressOf(headerValue(raw, 'Refer-To') ?? '');
    if (!from || !group.parties.get(from)?.dialogs.length || group.rosterManager !== this.o.self) {
      await this.o.endpoint.respond(request, 403, 'Forbidden', ['Warning: 399 parley "Not the roster manager of this conversation"']);
      return;
    }
    if (!target || target === this.o.self) {
      await this.o.endpoint.respond(request, 400, 'Bad Request');
      return;
    }
    await this.o.endpoint.respond(request, 202, 'Accepted');
    const party = this.party(group, target);
    if (party.dialogs.length === 0 && !party.inviting) void this.sendInvite(group, party, { triggered: false, referredBy: from });
  }

  // ---- outgoing -------------------------------------------------------------------

  private async sendInvite(group: Group, party: Party, how: { triggered: boolean; referredBy?: string }): Promise<void> {
    if (group.parties.size > MAX_PARTIES) {
      group.parties.delete(party.address);
      return;
    }
    party.inviting = true;
    const localTag = tag();
    const headers = [
      this.o.contact(),
      'Supported: ms-sender',
      'Supported: ms-text-format',
      ...(group.rosterManager === this.o.self ? [`Roster-Manager: sip:${this.o.self}`] : []),
      `EndPoints: ${this.endPointsFor(group)}`,
      ...(how.referredBy ? [`Referred-By: <sip:${how.referredBy}>`] : []),
      ...(how.triggered ? ['TriggeredInvite: TRUE'] : []),
      `Require: ${MULTIPARTY_REQUIRE}`,
    ];
    let response: SipResponse;
    try {
      response = await this.o.endpoint.invite(`sip:${party.address}`, {
        to: `sip:${party.address}`,
        callId: group.callId,
        cseq: 1,
        fromTag: localTag,
        extraHeaders: headers,
        body: { contentType: 'application/sdp', content: this.sdp(group.media) },
      });
    } catch (error) {
      party.inviting = false;
      this.o.ctx.log.warn(`Could not invite ${party.address} into ${group.room}: ${(error as Error).message}`);
      if (group.open && party.dialogs.length === 0) this.o.ctx.chats.system(group.room, `${party.address} could not be added: ${(error as Error).message}`, true);
      this.depart(group, party);
      return;
    }
    party.inviting = false;
    if (response.status < 200 || response.status >= 300) {
      if (group.open && party.dialogs.length === 0) this.o.ctx.chats.system(group.room, `${party.address} could not be added: ${failureText(party.address, response.status, response.reason)}`, true);
      this.depart(group, party);
      return;
    }
    const remoteTarget = uriIn(headerValue(response.raw, 'Contact'));
    const dialog: Dialog = { localTag, remoteTag: tagIn(headerValue(response.raw, 'To')) ?? '', remoteTarget: SAFE_TARGET.test(remoteTarget) ? remoteTarget : `sip:${party.address}`, cseq: 1 };
    await this.o.endpoint.ack(dialog.remoteTarget, { to: `sip:${party.address}`, callId: group.callId, cseq: 1, fromTag: localTag, toTag: dialog.remoteTag, extraHeaders: [this.o.contact()] }).catch(() => undefined);
    if (!group.open) {
      // We left while the INVITE was under way: end the dialog it opened.
      await this.inDialog(group, party, dialog, 'BYE', undefined, 3000).catch(() => undefined);
      return;
    }
    party.dialogs.push(dialog);
    this.announce(group, party);
  }

  private inDialog(group: Group, party: Party, dialog: Dialog, method: string, body?: { contentType: string; content: string }, timeoutMs?: number, headers: string[] = []): Promise<SipResponse> {
    return this.o.endpoint
      .request(method, dialog.remoteTarget, {
        to: `sip:${party.address}`,
        callId: group.callId,
        cseq: ++dialog.cseq,
        fromTag: dialog.localTag,
        toTag: dialog.remoteTag,
        extraHeaders: [this.o.contact(), ...headers],
        body,
        timeoutMs,
      })
      .then((response) => {
        dialog.cseq = Math.max(dialog.cseq, response.cseq);
        return response;
      });
  }

  /**
   * A message to the group: to each party, in its latest dialog; in order,
   * one after the other. Resolves with its protocol id once at least one
   * party took it; the parties it did not reach are reported to the core
   * right after (`messageNotDelivered`), as a conference's MCU reports them.
   */
  send(room: string, message: OutgoingMessage): Promise<{ protocolId: string }> {
    const group = this.byRoom(room);
    if (!group) return Promise.reject(new MessageError('no-route', 'This group conversation has ended'));
    const run = (this.chains.get(group.callId) ?? Promise.resolve()).then(() => this.sendNow(group, message));
    this.chains.set(group.callId, run.catch(() => undefined));
    return run;
  }

  private async sendNow(group: Group, message: OutgoingMessage): Promise<{ protocolId: string }> {
    if (!group.open) throw new MessageError('no-route', 'This group conversation has ended');
    const parties = [...group.parties.values()].filter((p) => p.dialogs.length > 0);
    if (parties.length === 0) throw new MessageError('send-failed', 'Not sent: nobody else is left in this group conversation');
    const body = message.formatted ? { contentType: 'text/html; charset=UTF-8', content: message.formatted.html } : { contentType: 'text/plain; charset=UTF-8', content: message.text };
    const failures: string[] = [];
    const missed: Array<{ address: string; reason: string }> = [];
    await Promise.all(
      parties.map(async (party) => {
        const dialog = party.dialogs[party.dialogs.length - 1]!;
        try {
          const response = await this.inDialog(group, party, dialog, 'MESSAGE', body);
          if (response.status >= 200 && response.status < 300) return;
          if (response.status === 481 || response.status === 408 || response.status === 480) {
            // The party is gone without telling us: it left the conversation.
            party.dialogs = party.dialogs.filter((d) => d !== dialog);
            this.depart(group, party, 'no longer reachable');
          }
          failures.push(failureText(party.address, response.status, response.reason));
          missed.push({ address: party.address, reason: `${response.status} ${printable(response.reason).slice(0, 200)}` });
        } catch (error) {
          failures.push(`${party.address}: ${(error as Error).message}`);
          missed.push({ address: party.address, reason: (error as Error).message });
        }
      }),
    );
    if (failures.length === parties.length) throw new MessageError('send-failed', `Not sent: ${failures.join('; ')}`);
    const protocolId = `${group.callId}/sent/${message.id}`;
    if (missed.length > 0) {
      const { ctx } = this.o;
      if (!ctx.messageNotDelivered) ctx.chats.system(group.room, `Not delivered to everyone: ${failures.join('; ')}`, true);
      else {
        // Once the core has the protocol id: it takes it when this send resolves.
        setImmediate(() => {
          for (const m of missed) ctx.messageNotDelivered!(protocolId, { recipients: [m.address], reason: m.reason });
        });
      }
    }
    return { protocolId };
  }

  /** A party of the group is typing (or stopped); only a party with a dialog in it counts. */
  private partyTyping(group: Group, from: string | undefined, state: TypingState): void {
    if (from === undefined || from === this.o.self || !group.open) return;
    this.o.ctx.chats.typing?.(group.room, from, state);
  }

  /**
   * Our typing to the group: an INFO with Communicator's KeyboardActivity
   * document to each party, in its latest dialog, as in a two-party IM. It
   * waits behind messages being sent: two requests at once in one dialog
   * can make the server refuse the first (stale CSeq).
   */
  typing(room: string, state: TypingState): Promise<void> {
    const group = this.byRoom(room);
    if (!group?.open) return Promise.resolve();
    const body = { contentType: KEYBOARD_ACTIVITY_TYPE, content: keyboardActivity(state) };
    const run = (this.chains.get(group.callId) ?? Promise.resolve()).then(async () => {
      const parties = [...group.parties.values()].filter((p) => p.dialogs.length > 0);
      await Promise.all(parties.map((p) => this.inDialog(group, p, p.dialogs[p.dialogs.length - 1]!, 'INFO', body).catch(() => undefined)));
    });
    this.chains.set(group.callId, run.catch(() => undefined));
    return run;
  }

  /**
   * Invites `who` into a group conversation. As roster manager we invite
   * ourselves; otherwise we ask the roster manager with a REFER, and with
   * none known we take the role (SetRM to every party) first.
   */
  async invite(room: string, who: string): Promise<void> {
    const group = this.byRoom(room);
    if (!group) throw new MessageError('no-route', 'This group conversation has ended');
    const address = peerAddress(who);
    if (address === this.o.self) return;
    if (group.parties.get(address)?.dialogs.length) return;
    if (group.parties.size >= MAX_PARTIES) throw new MessageError('send-failed', `A group conversation without a conference server takes at most ${MAX_PARTIES} parties`);
    const rm = group.rosterManager ? group.parties.get(group.rosterManager) : undefined;
    if (group.rosterManager !== this.o.self && rm && rm.dialogs.length > 0) {
      const dialog = rm.dialogs[rm.dialogs.length - 1]!;
      // As Communicator asks: who to invite, on whose behalf, in this multiparty conversation.
      const refer = [`Refer-To: <sip:${address}>`, `Referred-By: <sip:${this.o.self}>;tag=${dialog.localTag}`, `Require: ${MULTIPARTY_REQUIRE}`];
      const response = await this.inDialog(group, rm, dialog, 'REFER', undefined, undefined, refer).catch((error: Error) => {
        throw new MessageError('send-failed', `Could not ask ${rm.address} to invite ${address}: ${error.message}`);
      });
      if (response.status >= 300) throw new MessageError('send-failed', `${rm.address} did not invite ${address}: ${response.status} ${response.reason}`);
      return;
    }
    if (group.rosterManager !== this.o.self) await this.becomeRosterManager(group);
    await this.sendInvite(group, this.party(group, address), { triggered: false });
  }

  private async becomeRosterManager(group: Group): Promise<void> {
    group.rosterManager = this.o.self;
    const body = { contentType: MIM_TYPE, content: `<?xml version="1.0"?>\r\n<action xmlns="${MIM_NS}"><SetRM uri="sip:${escapeXml(this.o.self)}"/></action>\r\n` };
    await Promise.all(
      [...group.parties.values()]
        .filter((p) => p.dialogs.length > 0)
        .map((p) => this.inDialog(group, p, p.dialogs[p.dialogs.length - 1]!, 'INFO', body).catch(() => undefined)),
    );
  }

  /**
   * Starts a group conversation with `peers`, as its roster manager; with the
   * one-to-one IM with `peers[0]` when there is one (its Call-ID is kept, so
   * the peer's client continues it as the group), else a new Call-ID.
   * Resolves with the room.
   */
  async start(peers: readonly string[]): Promise<string> {
    const addresses = [...new Set(peers.map((p) => peerAddress(p)))].filter((a) => a !== this.o.self);
    if (addresses.length === 0) throw new MessageError('invalid-address', 'Name at least one other person for the group conversation');
    if (addresses.length >= MAX_PARTIES) throw new MessageError('send-failed', `A group conversation without a conference server takes at most ${MAX_PARTIES} parties`);
    const existing = this.o.adoptImWith(addresses[0]!);
    const group = this.newGroup(existing?.callId ?? randomBytes(12).toString('hex'), 'message', this.o.self);
    if (existing) {
      const peer = this.party(group, existing.peer);
      peer.dialogs.push({ localTag: existing.localTag, remoteTag: existing.remoteTag, remoteTarget: existing.remoteTarget, cseq: existing.cseq });
      peer.present = true;
    }
    // Everyone to be invited is in the EndPoints of each INVITE, so each newcomer connects to the others.
    const invitees = addresses.filter((a) => !group.parties.has(a)).map((a) => this.party(group, a));
    for (const p of invitees) p.inviting = true;
    this.o.ctx.chats.joined(group.room, { title: this.title(group), nick: this.o.self, ...(existing ? { continues: existing.peer } : {}) });
    this.o.ctx.chats.participants(group.room, this.participants(group));
    this.keep(group);
    if (existing) this.o.ctx.notice(`The conversation with ${existing.peer} continues as a group conversation`, { kind: 'im', peer: existing.peer });
    await Promise.all(invitees.map((p) => this.sendInvite(group, p, { triggered: false })));
    return group.room;
  }

  /**
   * Leaves a group conversation: a BYE on every dialog. Unless `keep` (the
   * account signing off, whose chats the core rejoins when it is back), it
   * is not made again after a reconnect.
   */
  async leave(room: string, timeoutMs = 3000, keep = false): Promise<void> {
    const group = this.byRoom(room);
    if (!keep) {
      const kept = this.kept().find((g) => g.room.toLowerCase() === room.toLowerCase());
      if (kept) this.forget(kept.callId);
    }
    if (!group) return;
    group.open = false;
    this.groups.delete(group.callId);
    this.chains.delete(group.callId);
    await Promise.all(
      [...group.parties.values()].flatMap((party) => party.dialogs.map((d) => this.inDialog(group, party, d, 'BYE', undefined, timeoutMs).catch(() => undefined))),
    );
  }

  async leaveAll(timeoutMs = 2000): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => this.leave(g.room, timeoutMs, true)));
  }

  /** Whether an INVITE for this request's Call-ID is part of a group we hold. */
  holds(raw: RawMessage): boolean {
    const callId = headerValue(raw, 'Call-ID');
    return callId !== undefined && this.groups.has(callId);
  }
}

