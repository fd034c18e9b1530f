import {
  ConnectionError,
  MessageError,
  type ConnectionContext,
  type FileTarget,
  type OutgoingFile,
  type OutgoingMessage,
  type Presence,
  type ProtocolConnection,
  type ArchivePage,
  type RosterEntry,
  type ServerChat,
  type Target,
  type TypingState,
} from '@parley/core';
import { client, jid, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { requestAcksWhileBusy } from './ack-requests.js';
import { parseAddress, type Address } from './address.js';
import { Avatars, NS_VCARD_CONVERSION } from './avatars.js';
import { Bookmarks } from './bookmarks.js';
import { enableElement, NS_CARBONS } from './carbons.js';
import { Disco, NS_DISCO_INFO, ownInfo } from './disco.js';
import { toConnectionError } from './errors.js';
import { FileTransfers, type IqCallee } from './file-transfer/file-transfers.js';
import { requestIq, requestIqReply, type IqCaller } from './iq-request.js';
import { NS_MAM } from './mam.js';
import { Messages } from './messages.js';
import { Muc } from './muc.js';
import { readSettings, type XmppSettings } from './options.js';
import { startKeepalive } from './ping.js';
import { PresenceTracker, presenceElement } from './presence.js';
import { NS_PUBSUB_EVENT, readEvent } from './pubsub.js';
import { CARRY_OVER_KEY, captureSession, messagesToResend, primeResumption, type ResumableSession, type StreamManagementState } from './resumption.js';
import { NS_ROSTER, NS_ROSTER_VERSIONING, Roster, type RosterItem } from './roster.js';
import { itemStreamingParser } from './roster-stream.js';
import { addMechanisms, credentialsFactory, type SaslFactory, type ScramExchange } from './sasl.js';
import { secretStoreCache } from './scram-cache.js';
import type { Session } from './session.js';
import { resolveEndpoints, type Endpoint } from './srv.js';
import { countEveryStanza } from './stanza-count.js';
import { SignInSteps, startSignIn } from './sign-in-steps.js';
import { skipUnreadableAddresses } from './unreadable-addresses.js';
import { requestBeforeStreamManagement } from './stream-order.js';
import { installTransport, type SecureSocket, type TransportClass } from './transport.js';

const CONNECT_TIMEOUT_MS = 30_000;

/** The parts of @xmpp/client's client we use that its published types leave out. */
interface ClientInternals {
  transports: TransportClass[];
  saslFactory: SaslFactory;
  streamManagement: StreamManagementState & { max?: string | number | null };
}

/** What this plugin keeps of a session for XEP-0198 resumption. */
interface SessionView {
  roster: RosterItem[];
  presence: ReturnType<PresenceTracker['snapshot']>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One XMPP account's connection. @xmpp/client handles the stream, SASL,
 * resource binding and stream management; the modules here add TLS policy,
 * the roster, presence, messages, MUC and discovery, and report everything
 * to the core through the ConnectionContext. Reconnecting is the core's job:
 * the library's own reconnect is switched off.
 */
export class XmppConnection implements ProtocolConnection {
  private xmpp: Client | undefined;
  private socket: SecureSocket | undefined;
  private disconnecting: Promise<void> | undefined;
  private settings!: XmppSettings;
  private own!: Address;
  private state: 'idle' | 'connecting' | 'online' | 'closed' = 'idle';
  private lastError: ConnectionError | undefined;
  private stopKeepalive: () => void = () => {};
  private readonly session: Session;
  readonly roster: Roster;
  readonly presence: PresenceTracker;
  readonly messages: Messages;
  readonly muc: Muc;
  readonly disco: Disco;
  readonly bookmarks: Bookmarks;
  readonly avatars: Avatars;
  /** The presence we last published, sent again when our picture changes (XEP-0153 puts its hash there). */
  private currentPresence: Presence = { status: 'available' };
  readonly files: FileTransfers;
  private mucService: Promise<string | undefined> | undefined;

  constructor(private readonly ctx: ConnectionContext) {
    const self = this;
    this.session = {
      ctx,
      log: ctx.log,
      send: (stanza) => this.client().send(stanza),
      iqGet: (child, to, timeout) => requestIq(this.client().iqCaller as unknown as IqCaller, 'get', child, to, timeout),
      iqSet: (child, to, timeout) => requestIq(this.client().iqCaller as unknown as IqCaller, 'set', child, to, timeout),
      iqReply: (type, child, to, timeout) => requestIqReply(this.client().iqCaller as unknown as IqCaller, type, child, to, timeout),
      ownJid() {
        const bound = parseAddress(self.xmpp?.jid?.toString());
        const a = bound ?? self.own;
        return { full: a.full, bare: a.bare, domain: a.domain, local: a.local };
      },
    };
    this.roster = new Roster(this.session);
    this.presence = new PresenceTracker(this.session);
    this.disco = new Disco(this.session);
    this.muc = new Muc(this.session, () => (this.mucService ??= this.disco.findMucService(this.own.domain)), () => this.settings.nick || this.own.local || 'parley', {
      supported: async (room) => (await this.disco.info(room)).features.has(NS_MAM),
      days: () => this.settings.archiveDays,
    });
    this.messages = new Messages(this.session, (bare) => this.muc.isRoom(bare));
    this.avatars = new Avatars(this.session);
    this.bookmarks = new Bookmarks(
      this.session,
      (name) => this.muc.roomJid(name),
      (jid) => {
        if (this.state !== 'online' || this.muc.isRoom(jid)) return;
        this.joinChat(jid).catch((error: unknown) => this.ctx.log.info('Could not join a bookmarked room', { room: jid, error: error instanceof Error ? error.message : String(error) }));
      },
    );
    this.files = new FileTransfers(this.session, this.disco, this.presence, () => this.settings.fileTransfer, () => this.socket?.localAddress);
    ctx.signal.addEventListener('abort', () => void this.disconnect(), { once: true });
  }

  private client(): Client {
    if (this.xmpp === undefined || this.state === 'closed') throw ConnectionError.network('Not connected');
    return this.xmpp;
  }

  async connect(): Promise<void> {
    this.settings = readSettings(this.ctx.settings);
    const own = parseAddress(this.ctx.account.username);
    if (own === undefined || own.local === '' || own.resource !== '') {
      throw ConnectionError.invalidUsername(`"${this.ctx.account.username}" is not a JID like name@example.org`);
    }
    this.own = own;
    this.state = 'connecting';
    const steps = 5;
    this.ctx.progress('Looking up server', 1, steps);
    if (this.settings.server === '' && this.ctx.net.remoteDns) {
      // Pidgin does the same: an SRV query here would tell local DNS where we are going.
      this.ctx.log.info(`The proxy resolves names, so no SRV lookup is made: connecting to ${own.domain} itself (set the connect server to use another host)`);
    }
    const endpoints = await resolveEndpoints(own.domain, this.settings, this.settings.security, this.ctx.net);
    if (endpoints.length === 0) throw ConnectionError.invalidSettings(`${own.domain} publishes no XMPP service`, { hint: 'Set the connect server in the advanced settings' });

    let failure: ConnectionError | undefined;
    // The roster received is written once the initial presence is out (or the sign-in has failed).
    this.roster.holdWrites();
    try {
      for (const endpoint of endpoints) {
        try {
          await this.attempt(endpoint, steps);
          return;
        } catch (error) {
          failure = toConnectionError(error);
          this.teardown();
          // Only a network failure is worth trying the next host for (through a proxy: the proxy could not reach it).
          if ((failure.reason !== 'network' && failure.reason !== 'proxy-destination-unreachable') || this.ctx.signal.aborted) break;
        }
      }
    } finally {
      this.roster.releaseWrites();
    }
    this.state = 'closed';
    throw failure ?? ConnectionError.network('Could not connect');
  }

  private async attempt(endpoint: Endpoint, steps: number): Promise<void> {
    const password = async (): Promise<string> => {
      const secret = await this.ctx.getSecret('password', { prompt: `Password for ${this.own.bare}` });
      if (secret === undefined || secret === '') throw ConnectionError.authenticationFailed('No password was given', { hint: 'Enter the account\'s password' });
      return secret;
    };
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    let exchange: ScramExchange | undefined;
    const xmpp = client({
      service: `xmpp://${host}:${endpoint.port}`,
      domain: this.own.domain,
      resource: this.settings.resource,
      // Each wait of the library for the server (the stream header, STARTTLS, closing); its default, 2 s, is too short for a loaded server or a slow link.
      timeout: this.settings.stepTimeoutMs,
      credentials: credentialsFactory(this.own.local, password, {
        exchange: () => exchange,
        onMechanism: (mechanism) => this.ctx.log.debug('SASL mechanism', { mechanism }),
        // Whether the SCRAM key came from the cache: a reconnect should derive none.
        onSignedIn: (mechanism, scram) => this.ctx.log.debug('SASL signed in', { mechanism, ...(scram?.current === undefined ? {} : { scramKeyFromCache: scram.current.fromCache === true }) }),
      }) as never,
    });
    this.xmpp = xmpp;
    const signIn = new SignInSteps(xmpp, this.settings.stepTimeoutMs);
    // The core decides when to reconnect (its policy, its backoff).
    xmpp.reconnect.stop();
    const internals = xmpp as unknown as ClientInternals;
    installTransport(
      internals.transports,
      {
        security: this.settings.security,
        domain: this.own.domain,
        net: this.ctx.net,
        stepTimeoutMs: this.settings.stepTimeoutMs,
        // A connection gone during the sign-in ends the library's wait for the step at once.
        onPeerClose: () => (this.state === 'connecting' ? signIn.closed() : undefined),
        onOpen: (secure) => this.ctx.progress(secure ? 'Authenticating (encrypted)' : 'Authenticating', 3, steps),
      },
      (socket) => {
        this.socket = socket;
      },
      // The roster answer is read item by item as it arrives (roster-stream.ts).
      (Parser) => itemStreamingParser(Parser, this.roster),
    );
    // XEP-0198 §5: a session that dropped may be resumed instead of rebuilt.
    // Kept in the carry-over until this attempt has resumed the session or sent again what it left
    // unacknowledged: an attempt that fails before (the server is not back yet) leaves it to the next.
    const saved = this.ctx.carryOver.get<ResumableSession<SessionView>>(CARRY_OVER_KEY);
    let resumed = false;
    // The library marks a resumed stream online without the 'online' event
    // start() waits for (it expects resumption inside one client object).
    let onResumed: Promise<void> | undefined;
    if (saved !== undefined && primeResumption(internals.streamManagement, saved)) {
      xmpp.jid = jid(saved.jid);
      onResumed = new Promise((resolve) =>
        internals.streamManagement.on('resumed', () => {
          resumed = true;
          resolve();
        }),
      );
    }
    const cache = secretStoreCache(this.ctx, (error) => this.ctx.log.debug('SCRAM cache unavailable', { error: String(error) }));
    exchange = addMechanisms(internals.saslFactory, xmpp, cache);

    xmpp.on('error', (error: unknown) => {
      this.lastError = toConnectionError(error);
      this.ctx.log.debug('XMPP error', { error: this.lastError.message, reason: this.lastError.reason, ...(this.lastError.serverText === undefined ? {} : { serverText: this.lastError.serverText }) });
    });
    skipUnreadableAddresses(xmpp, internals.streamManagement, this.ctx.log);
    countEveryStanza(xmpp, internals.streamManagement);
    requestAcksWhileBusy(xmpp, internals.streamManagement);
    xmpp.on('stanza', (stanza: Element) => this.route(stanza));
    // The features that offer resource binding come before the roster is asked for (at bind time).
    xmpp.on('nonza', (element: Element) => {
      if (element.is('features', 'http://etherx.jabber.org/streams') && element.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind') !== undefined) {
        this.roster.versioning = element.getChild('ver', NS_ROSTER_VERSIONING) !== undefined;
      }
    });
    xmpp.on('disconnect', () => this.onDisconnect());
    xmpp.iqCallee.set(NS_ROSTER, 'query', (context: { stanza: Element }) => (this.roster.handlePush(context.stanza) ? true : undefined));
    xmpp.iqCallee.get(NS_DISCO_INFO, 'query', (context: { stanza: Element }) => ownInfo(context.stanza.getChild('query', NS_DISCO_INFO)?.attrs.node));
    this.files.install(xmpp.iqCallee as unknown as IqCallee);

    // The roster is asked for at bind time, ahead of stream management (see
    // stream-order.ts), and the server's and account's features in the same
    // flight: they decide about carbons and the archive without another round trip.
    const first = requestBeforeStreamManagement(xmpp, () => {
      void this.disco.info(this.own.domain);
      // The account's own features (XEP-0313 archive): asked now, needed before the initial presence.
      void this.disco.info(this.own.bare);
      return this.roster.request();
    });

    this.ctx.progress('Connecting', 2, steps);
    const started = startSignIn(xmpp).catch((error: unknown) => {
      throw signIn.explain(error);
    });
    if (onResumed !== undefined) started.catch(() => {});
    // The whole sign-in may take a few steps' worth when the account allows each step longer.
    await withTimeout(onResumed === undefined ? started : Promise.race([started, onResumed]), Math.max(CONNECT_TIMEOUT_MS, 2 * this.settings.stepTimeoutMs), () => ConnectionError.network('The server did not complete the sign-in in time'));
    if (resumed && saved !== undefined) {
      // The server kept the session: roster, presence, carbons and the
      // stanzas it queued meanwhile (delivered now) are as they were.
      this.ctx.log.info('Resumed the previous session (XEP-0198)', { unacknowledged: saved.unacknowledged.length });
      this.roster.restore(saved.extra.roster);
      // The buddy list kept the roster of the resumed session, and pushes would have come in the queue.
      this.ctx.buddies.synced();
      this.presence.restore(saved.extra.presence);
      this.ctx.carryOver.delete(CARRY_OVER_KEY);
    } else {
      this.ctx.progress('Fetching the contact list', 4, steps);
      // RFC 6121 §2.2: the roster before the initial presence, so every
      // contact's presence that follows has a buddy to go to.
      await this.roster.fetch(first.answer());
      await withTimeout(first.negotiated(), CONNECT_TIMEOUT_MS, () => ConnectionError.network('The server did not answer the request to enable stream management'));
      // XEP-0313 before the initial presence: what was said meanwhile comes
      // in order ahead of anything live, and a server that was asked for its
      // archive does not send the same messages again from offline storage.
      if ((await this.disco.info(this.own.bare)).features.has(NS_MAM)) {
        this.ctx.progress('Fetching new messages', 4, steps);
        await this.messages.archive.catchUp(this.settings.archiveDays);
      }
      await xmpp.send(this.presenceStanza({ status: 'available' }));
      // The point where a sign-in has what a bare client has: roster in, presence out (bench/xmpp-roster stops here).
      this.ctx.log.debug('Initial presence sent');
      this.roster.releaseWrites();
      // A round trip after the presence: the server handles a stream's stanzas
      // in order, so once it answers, we are available (messages sent to us
      // from now on are delivered, not stored offline) and carbons are on.
      // The saved chats before connect() resolves (the core joins the autojoin ones at this sign-in),
      // asked for alongside the round trip after the presence rather than ahead of it.
      await Promise.all([this.afterOnline(), this.disco.info(this.own.bare).then((info) => this.bookmarks.load(info.features))]);
      // The previous session could not be resumed: what it left unacknowledged may never have reached the server.
      if (saved !== undefined) {
        await this.resend(messagesToResend(saved.unacknowledged, this.own.domain));
        this.ctx.carryOver.delete(CARRY_OVER_KEY);
      }
    }
    this.ctx.progress('Online', 5, steps);
    this.state = 'online';
    // The key derived for this sign-in, kept for the next one now that this one no longer waits.
    exchange?.current?.keep().catch((error: unknown) => this.ctx.log.debug('SCRAM cache unavailable', { error: String(error) }));
    this.lastError = undefined;
    this.stopKeepalive = startKeepalive(this.session, this.settings.pingIntervalMs, (error) => {
      this.lastError = ConnectionError.network('The server stopped answering pings', { cause: error });
      this.socket?.destroy();
    });
  }

  private async resend(stanzas: readonly Element[]): Promise<void> {
    if (stanzas.length === 0) return;
    this.ctx.log.info('Sending again what the previous session left unacknowledged (XEP-0198 §5)', { messages: stanzas.length });
    for (const stanza of stanzas) await this.client().send(stanza);
  }

  /** Optional extras the server may support; failures only cost the feature. */
  private async afterOnline(): Promise<void> {
    try {
      const server = await this.disco.info(this.own.domain);
      if (server.features.has(NS_CARBONS)) await this.session.iqSet(enableElement());
    } catch (error) {
      this.ctx.log.debug('Could not enable carbons', { error: String(error) });
    }
  }

  private route(stanza: Element): void {
    try {
      const from = parseAddress(stanza.attrs.from as string | undefined);
      const fromRoom = from !== undefined && this.muc.isRoom(from.bare);
      if (stanza.is('message')) {
        if (stanza.getChild('event', NS_PUBSUB_EVENT) !== undefined) {
          this.pubsubEvent(stanza);
          return;
        }
        if (stanza.attrs.type === 'groupchat' || (fromRoom && from.resource === '')) this.muc.handleMessage(stanza);
        else {
          // A link to a file (an upload) is offered for download, and shown as the message it is.
          this.files.handleMessage(stanza);
          this.messages.handle(stanza);
        }
      } else if (stanza.is('presence')) {
        if (fromRoom) this.muc.handlePresence(stanza);
        else {
          this.presence.handle(stanza);
          this.avatars.handlePresence(stanza);
        }
      }
    } catch (error) {
      // Bad input from the network is skipped with a log line, never a crash.
      this.ctx.log.warn('Skipped a stanza that could not be handled', { name: stanza.name, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * XEP-0163: a PEP notification, from the bare JID whose node it is (the
   * server sets it): our bookmarks only from our own account, a contact's
   * avatar as that contact's.
   */
  private pubsubEvent(stanza: Element): void {
    const own = this.session.ownJid().bare;
    const event = readEvent(stanza, () => true);
    const from = parseAddress(stanza.attrs.from as string | undefined)?.bare;
    if (event === undefined || from === undefined) {
      this.ctx.log.debug('Ignored a PEP notification', { from: String(stanza.attrs.from) });
      return;
    }
    if (from === own && this.bookmarks.handleEvent(event)) return;
    if (from !== own && this.avatars.handleEvent(from, event)) return;
    this.ctx.log.debug('Ignored a PEP notification for another node', { from, node: event.node });
  }

  private presenceStanza(presence: Presence): Element {
    const update = this.avatars.presenceUpdate();
    return presenceElement(presence, this.settings.priority, update === undefined ? [] : [update]);
  }

  async setIcon(icon: { data: Uint8Array; type: string; hash: string } | undefined): Promise<void> {
    const converts = (await this.disco.info(this.own.bare)).features.has(NS_VCARD_CONVERSION);
    await this.avatars.publish(icon, converts);
    // XEP-0153 §3.2: contacts learn of the new picture from our next presence.
    if (this.currentPresence.status !== 'invisible' && this.currentPresence.status !== 'offline') await this.client().send(this.presenceStanza(this.currentPresence));
  }

  private onDisconnect(): void {
    if (this.state !== 'online') return;
    this.state = 'closed';
    this.stopKeepalive();
    // Before the trackers are cleared: what the next attempt needs to resume this session.
    const xmpp = this.xmpp;
    if (xmpp !== undefined) {
      const session = captureSession<SessionView>((xmpp as unknown as ClientInternals).streamManagement, xmpp.jid?.toString(), {
        roster: [...this.roster.items.values()],
        presence: this.presence.snapshot(),
      });
      if (session !== undefined) this.ctx.carryOver.set(CARRY_OVER_KEY, session);
    }
    this.presence.clear();
    this.files.closeAll();
    this.muc.clear('Disconnected from the server');
    const error = this.lastError !== undefined && this.lastError.reason !== 'other' ? this.lastError : ConnectionError.network('The connection to the server was lost', this.lastError === undefined ? undefined : { cause: this.lastError });
    this.ctx.connectionLost(error);
  }

  private teardown(): void {
    this.stopKeepalive();
    this.files.closeAll();
    this.socket?.destroy();
    this.xmpp?.removeAllListeners();
    // Errors from a torn-down client must not become unhandled 'error' events.
    this.xmpp?.on('error', () => {});
  }

  /** Idempotent: a second call (the core's abort signal, then its sign-off) waits for the first. */
  disconnect(): Promise<void> {
    this.disconnecting ??= this.signOff();
    return this.disconnecting;
  }

  private async signOff(): Promise<void> {
    if (this.state === 'closed' && this.xmpp === undefined) return;
    const wasOnline = this.state === 'online';
    this.state = 'closed';
    // Signed off on purpose while online: nothing to resume. (After a drop
    // the state is already closed, and the session must stay resumable.)
    if (wasOnline) this.ctx.carryOver.delete(CARRY_OVER_KEY);
    this.stopKeepalive();
    const xmpp = this.xmpp;
    if (xmpp !== undefined && wasOnline) {
      try {
        await withTimeout(
          (async () => {
            await xmpp.send(xml('presence', { type: 'unavailable' }));
            await xmpp.stop();
          })(),
          3000,
          () => new Error('timeout'),
        );
      } catch (error) {
        this.ctx.log.debug('Closing the stream did not finish cleanly', { error: String(error) });
      }
      // Let what was written (the unavailable presence, </stream>) reach the
      // server before the socket goes: destroying it drops unsent data, and a
      // server with stream management then keeps the session waiting for a
      // resumption instead of telling contacts we left.
      await this.endSocketGracefully();
    }
    this.teardown();
    this.xmpp = undefined;
  }

  private async endSocketGracefully(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.isClosed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }

  async sendMessage(target: Target, message: OutgoingMessage): Promise<{ protocolId?: string }> {
    if (target.kind === 'chat') return this.muc.send(target.room, message);
    return this.messages.send(target.peer, message);
  }

  async setPresence(presence: Presence): Promise<void> {
    // XMPP has no invisible status of its own: appear offline and keep receiving messages.
    const element = presence.status === 'invisible' ? xml('presence', { type: 'unavailable' }) : this.presenceStanza(presence);
    this.currentPresence = presence;
    await this.client().send(element);
  }

  async setTyping(peer: string, state: TypingState): Promise<void> {
    await this.messages.typing(peer, state);
  }

  async joinChat(room: string, options: { password?: string; nick?: string } = {}): Promise<void> {
    // A bookmarked room is joined with the nick and password saved with it (XEP-0402 §3).
    const jid = await this.muc.roomJid(room).catch(() => undefined);
    const nick = options.nick ?? (jid === undefined ? undefined : this.bookmarks.nickFor(jid));
    const password = options.password ?? (jid === undefined ? undefined : this.bookmarks.passwordFor(jid));
    await this.muc.join(room, { ...options, ...(nick === undefined ? {} : { nick }), ...(password === undefined ? {} : { password }) });
  }

  /** XEP-0313: older pages of a one-to-one archive, for scrolling back past what Parley holds. */
  async fetchOlder(target: Target, query: { before: number | undefined; cursor: string | undefined; limit: number }): Promise<ArchivePage> {
    if (target.kind !== 'im') throw new MessageError('not-supported', 'Older group chat messages are not fetched from the archive');
    const peer = parseAddress(target.peer);
    if (peer === undefined) throw new MessageError('invalid-address', `"${target.peer}" is not a JID`);
    if (!(await this.disco.info(this.own.bare)).features.has(NS_MAM)) throw new MessageError('not-supported', 'The server keeps no message archive for this account');
    const page = await this.messages.archive.older(peer.full, { end: query.before === undefined ? undefined : new Date(query.before), cursor: query.cursor, limit: query.limit });
    const messages: ArchivePage['messages'] = [];
    for (const item of page.items) {
      const message = this.messages.fromArchive(item);
      if (message === undefined) continue;
      messages.push({
        direction: message.fromSelf === true ? 'outgoing' : 'incoming',
        sender: message.sender,
        text: message.text,
        timestamp: message.timestamp ?? query.before ?? Date.now(),
        ...(message.protocolId === undefined ? {} : { protocolId: message.protocolId }),
      });
    }
    return { messages, complete: page.complete, ...(page.cursor === undefined ? {} : { cursor: page.cursor }) };
  }

  async saveChat(chat: ServerChat): Promise<void> {
    await this.bookmarks.save(chat);
  }

  async unsaveChat(room: string): Promise<void> {
    await this.bookmarks.remove(room);
  }

  async leaveChat(room: string): Promise<void> {
    await this.muc.leave(room);
  }

  /** XEP-0085 in a room: our chat state goes to every occupant. */
  async setChatTyping(room: string, state: TypingState): Promise<void> {
    await this.muc.typing(room, state);
  }

  async setTopic(room: string, topic: string): Promise<void> {
    await this.muc.setTopic(room, topic);
  }

  async addBuddy(entry: RosterEntry): Promise<void> {
    const jid = parseAddress(entry.name);
    if (jid === undefined || jid.resource !== '') throw ConnectionError.invalidSettings(`"${entry.name}" is not a JID`);
    await this.roster.set({ ...entry, name: jid.bare });
    // RFC 6121 §3.1.1: ask to see their presence.
    await this.client().send(xml('presence', { to: jid.bare, type: 'subscribe' }));
  }

  async removeBuddy(name: string): Promise<void> {
    const jid = parseAddress(name);
    if (jid === undefined) return;
    await this.roster.remove(jid.bare);
  }

  async updateBuddy(entry: RosterEntry): Promise<void> {
    const jid = parseAddress(entry.name);
    if (jid === undefined) throw ConnectionError.invalidSettings(`"${entry.name}" is not a JID`);
    await this.roster.set({ ...entry, name: jid.bare });
  }

  async sendFile(file: OutgoingFile): Promise<void> {
    this.client();
    await this.files.send(file);
  }

  async acceptFile(id: string, target: FileTarget): Promise<void> {
    await this.files.accept(id, target);
  }

  async declineFile(id: string): Promise<void> {
    await this.files.decline(id);
  }

  async cancelFile(id: string): Promise<void> {
    await this.files.cancel(id);
  }

  async getBuddyInfo(name: string): Promise<Record<string, string>> {
    const jid = parseAddress(name);
    if (jid === undefined) return {};
    const info: Record<string, string> = {};
    const resources = this.presence.resourcesOf(jid.bare);
    if (resources.length > 0) info.Resources = resources.join(', ');
    const roster = this.roster.items.get(jid.bare);
    if (roster !== undefined) info.Subscription = roster.subscription;
    const first = resources[0];
    if (first !== undefined) {
      const disco = await this.disco.info(`${jid.bare}/${first}`);
      const client = disco.identities.find((i) => i.category === 'client');
      if (client?.name !== undefined) info.Client = client.name;
    }
    return info;
  }
}
