/**
 * The account's group conversations: ad-hoc conferences with an IM MCU.
 * Creating one (at the focus factory), joining one by its focus URI
 * (typed, rejoined after a reconnect, or from an invitation), following its
 * roster into the core's chat participants, relaying messages through the
 * MCU, inviting people, turning a one-to-one conversation into a group
 * one as Communicator does (the peer is invited into a new conference and
 * the two-party session is closed), and leaving cleanly.
 */
import { randomBytes } from 'node:crypto';
import type { ConnectionContext, OutgoingMessage, TypingState } from '@parley/core';
import { printable } from '../address.js';
import { failureText, type ImSessions } from '../im-session.js';
import type { IncomingRequest, SipEndpoint } from '../sip/endpoint.js';
import { headerValue } from '../sip/headers.js';
import type { Subscriptions } from '../sip/subscription.js';
import { DocumentError, XmlError } from '../xml.js';
import { CONF_INVITE_TYPE, conferenceInviteBody, oneLine, parseConferenceInvite } from './c3p.js';
import { ConferenceError } from './conference-error.js';
import { ConferenceRoster, toChatParticipant, type RosterChange } from './conference-info.js';
import { InviteDialog } from './dialog.js';
import { createConference, Focus } from './focus.js';
import { McuSession } from './mcu-session.js';
import { conferenceId, conferenceUri, participantAddress } from './uri.js';

export interface ConferencesOptions {
  endpoint: SipEndpoint;
  subscriptions: Subscriptions;
  ctx: ConnectionContext;
  selfUri: string;
  contact: () => string;
  local: () => { address: string; port: number };
  im: ImSessions;
  /** How long to wait for the focus to name its IM MCU (default 15 s). */
  mcuWaitMs?: number;
}

interface Conference {
  /** The name the core keeps the chat under. */
  room: string;
  focusUri: string;
  roster: ConferenceRoster;
  focus: Focus;
  mcu: McuSession | undefined;
  /** The core has been told we are in (chats.joined). */
  announced: boolean;
  /** Resolves once the focus names the IM MCU. */
  chatUri: Promise<string>;
  /** The peer of the one-to-one conversation this one continues. */
  continues: string | undefined;
  gotChatUri: (uri: string) => void;
  /** Set when a join (or rejoin of the MCU) is under way. */
  joining: Promise<void> | undefined;
  gone: boolean;
}

const key = (focusUri: string) => focusUri.toLowerCase();

export class Conferences {
  private readonly conferences = new Map<string, Conference>();
  private readonly self: string;

  constructor(private readonly o: ConferencesOptions) {
    this.self = participantAddress(o.selfUri) ?? o.selfUri;
  }

  private byRoom(room: string): Conference | undefined {
    for (const c of this.conferences.values()) if (c.room.toLowerCase() === room.toLowerCase()) return c;
    const uri = (() => {
      try {
        return conferenceUri(room);
      } catch {
        return undefined;
      }
    })();
    return uri ? this.conferences.get(key(uri)) : undefined;
  }

  private requireRoom(room: string): Conference {
    const c = this.byRoom(room);
    if (!c || c.gone) throw new ConferenceError(`Not in the conversation ${printable(room)}`);
    return c;
  }

  // ---- creating and joining -----------------------------------------------------

  /** Creates a conference, joins it and invites `invitees`; resolves with its room name (the focus URI). */
  async create(subject = '', invitees: readonly string[] = [], continues?: string): Promise<string> {
    const { endpoint, selfUri, contact } = this.o;
    const focusUri = await createConference({ endpoint, selfUri, contact, subject });
    this.o.ctx.log.info(`Created the conference ${conferenceId(focusUri)}`);
    await this.join(focusUri, continues);
    for (const who of invitees) await this.invite(focusUri, who);
    return focusUri;
  }

  /**
   * Joins the conference `room` names (a focus URI, as typed or as the core
   * keeps it): the focus, its roster, then its IM MCU. Resolves once the
   * core has the chat with its participants. `continues`: the peer of the
   * one-to-one conversation this one takes over (its messages become the
   * chat's scrollback).
   */
  async join(room: string, continues?: string): Promise<void> {
    const focusUri = conferenceUri(room);
    const existing = this.conferences.get(key(focusUri));
    if (existing && !existing.gone) {
      if (existing.joining) return existing.joining;
      if (existing.mcu?.open) {
        this.announce(existing);
        return;
      }
      this.drop(existing);
    }
    let gotChatUri!: (uri: string) => void;
    // The focus reports into the conference it belongs to, made just below.
    let conference!: Conference;
    const focus = new Focus({
      endpoint: this.o.endpoint,
      subscriptions: this.o.subscriptions,
      selfUri: this.o.selfUri,
      contact: this.o.contact,
      focusUri,
      log: this.o.ctx.log,
      onConferenceInfo: (body) => this.onConferenceInfo(conference, body),
      onEnded: (reason) => this.ended(conference, reason),
    });
    conference = {
      room,
      focusUri,
      roster: new ConferenceRoster(),
      focus,
      mcu: undefined,
      announced: false,
      chatUri: new Promise<string>((resolve) => (gotChatUri = resolve)),
      continues,
      gotChatUri: (uri) => gotChatUri(uri),
      joining: undefined,
      gone: false,
    };
    this.conferences.set(key(focusUri), conference);
    conference.joining = this.enter(conference).finally(() => (conference.joining = undefined));
    return conference.joining;
  }

  private async enter(conference: Conference): Promise<void> {
    try {
      await conference.focus.join();
      const chatUri = await this.withTimeout(conference.chatUri, this.o.mcuWaitMs ?? 15_000, 'The conference named no IM service');
      conference.mcu = new McuSession({
        endpoint: this.o.endpoint,
        ctx: this.o.ctx,
        contact: this.o.contact,
        local: this.o.local,
        chatUri,
        room: () => conference.room,
        onDropped: () => void this.mcuDropped(conference),
      });
      await conference.mcu.join();
      this.announce(conference);
    } catch (error) {
      this.conferences.delete(key(conference.focusUri));
      conference.gone = true;
      await conference.mcu?.leave(2000);
      await conference.focus.leave(2000);
      throw error;
    }
  }

  private withTimeout<T>(pending: Promise<T>, ms: number, message: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ConferenceError(message)), ms);
      timer.unref();
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private title(conference: Conference): string {
    const subject = conference.roster.subject;
    if (subject) return subject;
    const others = conference.roster.participants().filter((p) => p.address !== this.self);
    return others.length ? `Conversation with ${others.map((p) => p.displayName ?? p.address).join(', ')}` : `Conference ${conferenceId(conference.focusUri).slice(0, 8)}`;
  }

  /** Tells the core we are in, with the roster as it stands. */
  private announce(conference: Conference): void {
    const { chats } = this.o.ctx;
    const subject = conference.roster.subject;
    chats.joined(conference.room, { title: this.title(conference), ...(subject ? { topic: subject } : {}), ...(conference.continues ? { continues: conference.continues } : {}) });
    chats.participants(conference.room, conference.roster.participants().map(toChatParticipant));
    conference.announced = true;
  }

  // ---- the roster ---------------------------------------------------------------

  private onConferenceInfo(conference: Conference, body: string): void {
    if (conference.gone) return;
    let change: RosterChange;
    try {
      change = conference.roster.apply(body);
    } catch (error) {
      if (error instanceof XmlError || error instanceof DocumentError) {
        this.o.ctx.log.warn(`Ignoring a conference roster that cannot be read: ${error.message}`);
        return;
      }
      throw error;
    }
    if (change.chatUri) conference.gotChatUri(change.chatUri);
    if (change.resync) {
      this.o.ctx.log.info('The conference roster has a gap: asking for the full state');
      void conference.focus.subscribe().catch((error: Error) => this.o.ctx.log.warn(`Asking for the full conference state failed: ${error.message}`));
    }
    if (change.ended) return this.ended(conference, 'the conference ended');
    if (!conference.announced) return;
    const { chats } = this.o.ctx;
    for (const p of change.joined) chats.participantJoined(conference.room, toChatParticipant(p), p.address === this.self);
    for (const p of change.changed) chats.participantJoined(conference.room, toChatParticipant(p), true);
    for (const address of change.left) if (address !== this.self) chats.participantLeft(conference.room, address);
    if (change.subject !== undefined) chats.topic(conference.room, change.subject);
  }

  // ---- losing the conference ----------------------------------------------------

  private drop(conference: Conference): void {
    conference.gone = true;
    this.conferences.delete(key(conference.focusUri));
    conference.mcu?.forget();
    conference.focus.forget();
  }

  /** The focus ended our part: the chat is left, with why. */
  private ended(conference: Conference, reason: string): void {
    if (conference.gone) return;
    const announced = conference.announced;
    conference.gone = true;
    this.conferences.delete(key(conference.focusUri));
    void conference.mcu?.leave(2000);
    void conference.focus.leave(2000);
    if (announced) this.o.ctx.chats.left(conference.room, `You are no longer in this conversation: ${reason}`);
  }

  /** The MCU hung up on us: one attempt to get back in, else the conversation is over for us. */
  private async mcuDropped(conference: Conference): Promise<void> {
    if (conference.gone || !conference.mcu) return;
    const { chats, log } = this.o.ctx;
    log.warn(`The IM service of conference ${conferenceId(conference.focusUri)} ended our session`);
    if (conference.announced) chats.system(conference.room, 'The conversation service dropped us; reconnecting', true);
    try {
      conference.joining = conference.mcu.join();
      await conference.joining;
      if (conference.announced) chats.system(conference.room, 'Back in the conversation');
    } catch (error) {
      this.ended(conference, `its service dropped us (${(error as Error).message})`);
    } finally {
      conference.joining = undefined;
    }
  }

  // ---- in the conversation ----------------------------------------------------------

  /** Sends to the conference; resolves with the message's protocol id, for the MCU's delivery report. */
  async send(room: string, message: OutgoingMessage): Promise<string | undefined> {
    const conference = this.requireRoom(room);
    if (conference.joining) await conference.joining.catch(() => undefined);
    if (!conference.mcu) throw new ConferenceError('Not connected to the conversation yet');
    return conference.mcu.send(message);
  }

  /** Our typing to the conference's MCU, once we are in its chat; nothing before. */
  async typing(room: string, state: TypingState): Promise<void> {
    const conference = this.byRoom(room);
    if (conference && !conference.gone) await conference.mcu?.typing(state);
  }

  async setSubject(room: string, subject: string): Promise<void> {
    await this.requireRoom(room).focus.setSubject(subject);
  }

  /** Invites `who` (user@host) into the conference with an ms-conf-invite INVITE. */
  async invite(room: string, who: string): Promise<void> {
    const conference = this.requireRoom(room);
    const dialog = new InviteDialog(this.o.endpoint, this.o.contact, `sip:${who}`);
    let status: number;
    let reason: string;
    try {
      const response = await dialog.invite(['Supported: ms-sender'], { contentType: CONF_INVITE_TYPE, content: conferenceInviteBody(conference.focusUri, conference.roster.subject ?? '') });
      status = response.status;
      reason = response.reason;
    } catch (error) {
      throw new ConferenceError(`${who} was not invited: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (status < 200 || status >= 300) throw new ConferenceError(`Not invited: ${failureText(who, status, oneLine(reason))}`, status);
    if (conference.announced) this.o.ctx.chats.system(conference.room, `Invited ${who}`);
  }

  /**
   * A third person added to a one-to-one conversation: a new conference,
   * the peer and the newcomers invited into it, and the two-party session
   * closed once the peer has accepted (as Communicator moves a conversation).
   */
  async escalate(peer: string, invitees: readonly string[]): Promise<string> {
    const room = await this.create('', [], peer);
    await this.invite(room, peer);
    await this.o.im.close(peer);
    this.o.ctx.notice(`This conversation continues as a group conversation (${this.title(this.conferences.get(key(room))!)})`, { kind: 'im', peer });
    this.o.ctx.chats.system(room, `Continued from the conversation with ${peer}`);
    for (const who of invitees) await this.invite(room, who);
    return room;
  }

  async leave(room: string): Promise<void> {
    const conference = this.byRoom(room);
    if (!conference) return;
    conference.gone = true;
    this.conferences.delete(key(conference.focusUri));
    await conference.mcu?.leave();
    await conference.focus.leave();
  }

  /** Leaves every conference (signing off), best effort. */
  async closeAll(timeoutMs = 2000): Promise<void> {
    await Promise.all(
      [...this.conferences.values()].map(async (c) => {
        c.gone = true;
        await c.mcu?.leave(timeoutMs);
        await c.focus.leave(timeoutMs);
      }),
    );
    this.conferences.clear();
  }

  // ---- incoming requests ----------------------------------------------------------

  /** Handles invitations and requests in conference dialogs; false for anything else. */
  async handle(request: IncomingRequest): Promise<boolean> {
    const method = request.message.method;
    const type = (headerValue(request.raw, 'Content-Type') ?? '').toLowerCase();
    if (method === 'INVITE' && type.startsWith(CONF_INVITE_TYPE)) {
      await this.invited(request);
      return true;
    }
    for (const c of this.conferences.values()) {
      if (c.mcu && (await c.mcu.handle(request))) return true;
      if (await c.focus.handle(request)) return true;
    }
    return false;
  }

  /**
   * An invitation into a conference. One from the person we are talking
   * with is their conversation moving into a conference, and is followed at
   * once; any other is put to the user (accept or decline).
   */
  private async invited(request: IncomingRequest): Promise<void> {
    const { endpoint, ctx, im } = this.o;
    const inviter = participantAddress(headerValue(request.raw, 'From') ?? '') ?? 'someone';
    let invitation;
    try {
      invitation = parseConferenceInvite(request.raw.body);
    } catch (error) {
      ctx.log.warn(`Refusing a conference invitation from ${inviter} that cannot be read: ${(error as Error).message}`);
      await endpoint.respond(request, 400, 'Bad Request');
      return;
    }
    const toTag = randomBytes(5).toString('hex');
    const existing = this.conferences.get(key(invitation.focusUri));
    if (existing && !existing.gone) {
      await endpoint.respond(request, 200, 'OK', [this.o.contact()], { toTag });
      return;
    }
    const escalation = im.isOpen(inviter);
    let accepted = escalation;
    if (!escalation) {
      await endpoint.respond(request, 180, 'Ringing', [this.o.contact()], { toTag });
      accepted = await ctx.ui
        .request(
          {
            kind: 'confirm',
            title: `${inviter} invites you to a group conversation`,
            ...(invitation.subject ? { message: `Subject: ${invitation.subject}` } : {}),
            default: true,
            details: { Conference: invitation.focusUri },
          },
          { purpose: 'plugin', accountId: ctx.account.id, signal: ctx.signal },
        )
        .catch(() => false);
    }
    if (!accepted) {
      ctx.log.info(`Declined a conference invitation from ${inviter}`);
      await endpoint.respond(request, 603, 'Decline', [], { toTag });
      return;
    }
    await endpoint.respond(request, 200, 'OK', [this.o.contact()], { toTag });
    try {
      await this.join(invitation.focusUri, escalation ? inviter : undefined);
      if (escalation) {
        await im.close(inviter);
        ctx.notice('This conversation continues as a group conversation', { kind: 'im', peer: inviter });
        ctx.chats.system(invitation.focusUri, `Continued from the conversation with ${inviter}`);
      }
    } catch (error) {
      ctx.notice(`Joining the group conversation ${inviter} invited you to failed: ${(error as Error).message}`, escalation ? { kind: 'im', peer: inviter } : undefined, true);
    }
  }
}
