/**
 * What runs once an account is signed in: for OCS / Lync the roaming
 * contacts, roaming self, provisioning, presence watching and publishing
 * and IM sessions; for a standard SIP/SIMPLE server PIDF presence
 * (PUBLISH, SUBSCRIBE) and page-mode MESSAGE. Incoming requests are handed
 * to whichever feature owns them.
 */
import type { ConnectionContext, OutgoingMessage, Presence, RosterEntry, TypingState } from '@parley/core';
import type { Flavour } from './flavour.js';
import { Conferences } from './conference/conferences.js';
import { ImSessions } from './im-session.js';
import { isMultipartyInvite } from './multiparty-headers.js';
import { MultipartyIm } from './multiparty-im.js';
import { fromPidf, toPidf } from './pidf.js';
import { PresencePublisher } from './presence-publish.js';
import { PresenceWatcher } from './presence-subscription.js';
import { parseProvisioning, PROVISIONING_BODY } from './provisioning.js';
import { RoamingContacts } from './roaming-contacts.js';
import { ROAMING_SELF_BODY, RoamingSelf } from './roaming-self.js';
import { handleRegistrationNotify } from './registration-notify.js';
import type { IncomingRequest, SipEndpoint } from './sip/endpoint.js';
import { headerValue } from './sip/headers.js';
import { Subscriptions } from './sip/subscription.js';
import type { ConnectionError } from '@parley/core';

export interface AccountSessionOptions {
  flavour: Flavour;
  endpoint: SipEndpoint;
  ctx: ConnectionContext;
  selfUri: string;
  contact: () => string;
  local: () => { address: string; port: number };
  /** The server signed us off. */
  onSignedOff: (error: ConnectionError) => void;
  batched: boolean;
  allowEvents: readonly string[];
}

const SIMPLE_BUDDIES = 'simpleBuddies';
const bare = (uri: string) => uri.trim().replace(/^sips?:/i, '').toLowerCase();

export class AccountSession {
  readonly subscriptions: Subscriptions;
  readonly im: ImSessions;
  /** Group conversations without an MCU (OCS only). */
  readonly multiparty: MultipartyIm | undefined;
  /** Group conversations (OCS / Lync conferences); standard SIP servers have none. */
  readonly conferences: Conferences | undefined;
  readonly contacts: RoamingContacts | undefined;
  readonly publisher: PresencePublisher | undefined;
  readonly watcher: PresenceWatcher | undefined;
  private readonly roamingSelf: RoamingSelf | undefined;
  private presence: Presence = { status: 'available' };
  private publishReady = false;
  private etag: string | undefined;
  private readonly simpleBuddies = new Set<string>();

  constructor(private readonly o: AccountSessionOptions) {
    const log = o.ctx.log;
    this.subscriptions = new Subscriptions(o.endpoint, o.contact, log);
    this.im = new ImSessions({ endpoint: o.endpoint, ctx: o.ctx, selfUri: o.selfUri, contact: o.contact, local: o.local, mode: o.flavour === 'ocs' ? 'dialog' : 'page' });
    this.multiparty =
      o.flavour === 'ocs'
        ? new MultipartyIm({
            endpoint: o.endpoint,
            ctx: o.ctx,
            self: bare(o.selfUri),
            contact: o.contact,
            local: o.local,
            adoptIm: (callId) => this.im.adopt(callId),
            adoptImWith: (peer) => this.im.adoptWith(peer),
          })
        : undefined;
    if (o.flavour === 'ocs') {
      this.watcher = new PresenceWatcher({ subscriptions: this.subscriptions, ctx: o.ctx, selfUri: o.selfUri, batched: o.batched });
      this.contacts = new RoamingContacts({
        endpoint: o.endpoint,
        ctx: o.ctx,
        selfUri: o.selfUri,
        contact: o.contact,
        onContacts: (added, removed) => {
          void this.watcher!.watch(added);
          for (const r of removed) void this.watcher!.unwatch(r);
        },
      });
      this.conferences = new Conferences({ endpoint: o.endpoint, subscriptions: this.subscriptions, ctx: o.ctx, selfUri: o.selfUri, contact: o.contact, local: o.local, im: this.im });
      this.publisher = new PresencePublisher(o.endpoint, o.selfUri, o.contact, log);
      this.roamingSelf = new RoamingSelf(this.publisher, log, () => {
        this.publishReady = true;
        void this.publishNow();
      });
    }
  }

  private allowed(event: string): boolean {
    return this.o.allowEvents.length === 0 || this.o.allowEvents.includes(event);
  }

  /** Subscribes to what the server offers; resolves when the requests are answered. */
  async start(): Promise<void> {
    const { ctx } = this.o;
    if (this.o.flavour === 'simple') {
      for (const b of ctx.getState<string[]>(SIMPLE_BUDDIES) ?? []) if (typeof b === 'string') this.simpleBuddies.add(b);
      ctx.buddies.sync([...this.simpleBuddies].map((name) => ({ name })));
      // A standard SIP server keeps no contact list: the list is the account's own, applied now.
      ctx.buddies.synced();
      await Promise.all([this.publishNow(), ...[...this.simpleBuddies].map((b) => this.watchSimple(b))]);
      return;
    }
    const self = this.o.selfUri;
    const common = ['Supported: com.microsoft.autoextend', 'Supported: ms-benotify', 'Proxy-Require: ms-benotify'];
    const tasks: Array<Promise<unknown>> = [];
    if (this.allowed('vnd-microsoft-roaming-contacts')) {
      tasks.push(
        this.subscriptions.subscribe({ event: 'vnd-microsoft-roaming-contacts', uri: self, accept: 'application/vnd-microsoft-roaming-contacts+xml', headers: common }, (body) => this.contacts!.apply(body)),
      );
    }
    if (this.allowed('vnd-microsoft-roaming-self')) {
      tasks.push(
        this.subscriptions.subscribe(
          {
            event: 'vnd-microsoft-roaming-self',
            uri: self,
            accept: 'application/vnd-microsoft-roaming-self+xml',
            headers: common,
            body: { contentType: 'application/vnd-microsoft-roaming-self+xml', content: ROAMING_SELF_BODY },
          },
          (body) => this.roamingSelf!.apply(body),
        ),
      );
    } else {
      this.publishReady = true;
      tasks.push(this.publishNow());
    }
    if (this.allowed('vnd-microsoft-provisioning-v2')) {
      tasks.push(
        this.subscriptions.subscribe(
          {
            event: 'vnd-microsoft-provisioning-v2',
            uri: self,
            accept: 'application/vnd-microsoft-roaming-provisioning-v2+xml',
            headers: common,
            expires: 0,
            body: { contentType: 'application/vnd-microsoft-roaming-provisioning-v2+xml', content: PROVISIONING_BODY },
          },
          (body) => {
            const p = parseProvisioning(body);
            ctx.log.debug(`Server settings: ${JSON.stringify(p.server)}; policy: ${JSON.stringify(p.policy)}`);
            const info: Record<string, string> = {};
            for (const [k, v] of Object.entries(p.policy)) info[`Policy ${k}`] = v;
            if (Object.keys(info).length) ctx.accountInfo(info);
          },
        ),
      );
    }
    const results = await Promise.allSettled(tasks);
    for (const r of results) if (r.status === 'rejected') ctx.log.warn(`${(r.reason as Error).message}`);
    // The contact list comes in the first NOTIFY, after the SUBSCRIBE's answer: signed in means the list is there.
    const subscribedToContacts = this.allowed('vnd-microsoft-roaming-contacts') && results[0]?.status === 'fulfilled';
    if (subscribedToContacts && !(await this.contacts!.whenLoaded())) ctx.log.warn('The server did not send the contact list; the buddy list may be out of date');
  }

  async stop(): Promise<void> {
    await this.conferences?.closeAll();
    await Promise.all([this.im.closeAll(), this.multiparty?.leaveAll()]);
    if (this.o.flavour === 'simple') {
      // A standard presence server keeps our last PUBLISH until it expires: remove it
      // (RFC 3903 4.5), and end our watches, so that contacts see us go offline now.
      await Promise.allSettled([this.unpublishPidf(), ...[...this.simpleBuddies].map((b) => this.subscriptions.unsubscribe('presence', `sip:${b}`))]);
    }
    this.subscriptions.stop();
  }

  private async unpublishPidf(): Promise<void> {
    if (!this.etag) return;
    const etag = this.etag;
    this.etag = undefined;
    await this.o.endpoint.request('PUBLISH', this.o.selfUri, { to: this.o.selfUri, extraHeaders: ['Event: presence', 'Expires: 0', `SIP-If-Match: ${etag}`], timeoutMs: 3000 });
  }

  // ---- incoming requests ------------------------------------------------------

  async onRequest(request: IncomingRequest): Promise<boolean> {
    const method = request.message.method;
    if (method === 'NOTIFY' || method === 'BENOTIFY') {
      const signedOff = handleRegistrationNotify(request.raw);
      if (signedOff) {
        if (method === 'NOTIFY') await this.o.endpoint.respond(request, 200, 'OK');
        this.o.onSignedOff(signedOff);
        return true;
      }
      if (await this.subscriptions.handle(request)) return true;
      // A conference's IM service reporting on a message we sent (an implicit BENOTIFY in its dialog).
      if (this.conferences && (await this.conferences.handle(request))) return true;
      // A refer NOTIFY in a group conversation without an MCU (after we asked for an invitation).
      if (method === 'NOTIFY' && this.multiparty?.holds(request.raw) && (await this.multiparty.handle(request, false))) return true;
      this.o.ctx.log.warn(`${method} for a subscription we do not have (${headerValue(request.raw, 'Event') ?? 'no event'}); refused`);
      if (method === 'NOTIFY') await this.o.endpoint.respond(request, 481, 'Subscription Does Not Exist');
      return true;
    }
    if (this.conferences && (await this.conferences.handle(request))) return true;
    if (this.multiparty) {
      // A group INVITE, or anything in a group's dialogs, goes to the group conversations.
      const groupInvite = method === 'INVITE' && isMultipartyInvite(request.raw);
      if ((groupInvite || this.multiparty.holds(request.raw)) && (await this.multiparty.handle(request, groupInvite))) return true;
    }
    return this.im.handle(request);
  }

  // ---- user actions -------------------------------------------------------------

  send(peer: string, message: OutgoingMessage): Promise<void> {
    return this.im.send(peer, message);
  }

  typing(peer: string, state: TypingState): Promise<void> {
    return this.im.typing(peer, state);
  }

  async setPresence(presence: Presence): Promise<void> {
    this.presence = presence;
    await this.publishNow();
  }

  private async publishNow(): Promise<void> {
    if (this.o.flavour === 'simple') return this.publishPidf();
    if (!this.publishReady || !this.publisher) return;
    await this.publisher.publish(this.presence).catch((error: Error) => this.o.ctx.log.warn(error.message));
  }

  /** RFC 3903: the first PUBLISH creates the state, later ones modify it with SIP-If-Match. */
  private async publishPidf(): Promise<void> {
    const send = () =>
      this.o.endpoint.request('PUBLISH', this.o.selfUri, {
        to: this.o.selfUri,
        extraHeaders: ['Event: presence', 'Expires: 3600', ...(this.etag ? [`SIP-If-Match: ${this.etag}`] : [])],
        body: { contentType: 'application/pidf+xml', content: toPidf(this.o.selfUri, this.presence) },
      });
    let response = await send();
    if (response.status === 412 && this.etag) {
      this.etag = undefined;
      response = await send();
    }
    if (response.status >= 200 && response.status < 300) this.etag = headerValue(response.raw, 'SIP-ETag') ?? this.etag;
    else this.o.ctx.log.warn(`The server refused our presence: ${response.status} ${response.reason}`);
  }

  private async watchSimple(name: string): Promise<void> {
    await this.subscriptions
      .subscribe({ event: 'presence', uri: `sip:${name}`, accept: 'application/pidf+xml' }, (body) => {
        const { presence } = fromPidf(body);
        this.o.ctx.buddies.presence(name, presence);
      })
      .catch((error: Error) => this.o.ctx.log.warn(error.message));
  }

  async addBuddy(entry: RosterEntry): Promise<void> {
    if (this.contacts) return this.contacts.add(entry);
    const name = bare(entry.name);
    this.simpleBuddies.add(name);
    this.o.ctx.setState(SIMPLE_BUDDIES, [...this.simpleBuddies]);
    // The first NOTIFY can arrive before the core has the buddy (it adds it once we return):
    // put it in the list now so that presence has somewhere to go.
    this.o.ctx.buddies.upsert({ ...entry, name });
    await this.watchSimple(name);
  }

  async removeBuddy(name: string): Promise<void> {
    if (this.contacts) return this.contacts.remove(name);
    const key = bare(name);
    this.simpleBuddies.delete(key);
    this.o.ctx.setState(SIMPLE_BUDDIES, [...this.simpleBuddies]);
    await this.subscriptions.unsubscribe('presence', `sip:${key}`);
  }

  async updateBuddy(entry: RosterEntry): Promise<void> {
    if (this.contacts) return this.contacts.update(entry);
  }
}
