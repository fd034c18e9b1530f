/**
 * One OCS / Lync account's connection: finds the server, opens TLS or TCP,
 * registers with the chosen authentication, keeps the registration fresh
 * and reports what breaks it.
 */
import { randomBytes } from 'node:crypto';
import {
  ConnectionError,
  MessageError,
  type ConnectionContext,
  type OutgoingMessage,
  type Presence,
  type ProtocolConnection,
  type RosterEntry,
  type Target,
  type TypingState,
} from '@parley/core';
import { AccountSession } from './account-session.js';
import { isMultipartyRoom } from './multiparty-im.js';
import { ConferenceError } from './conference/conference-error.js';
import type { Conferences } from './conference/conferences.js';
import { isPeerAddress, nameText, OcsInputError, peerAddress } from './address.js';
import { detectFlavour, type Flavour } from './flavour.js';
import { Grammar } from 'sip.js';
import { DigestAuthenticator } from './auth/digest.js';
import { NtlmAuthenticator } from './auth/ntlm-auth.js';
import { KerberosAuthenticator, kerberosPrincipal } from './auth/kerberos-auth.js';
import { KerberosError, kerberosAvailable } from './auth/gssapi.js';
import { discoverServers, type ServerCandidate } from './discovery.js';
import { readSettings, SettingsError, type OcsSettings } from './options.js';
import { RedirectError, Registrar, type Authenticator } from './register.js';
import { handleRegistrationNotify } from './registration-notify.js';
import { SipEndpoint, type IncomingRequest } from './sip/endpoint.js';
import { StreamTransport } from './transport/stream-transport.js';

/**
 * Where and how long the plugin looks for its server, for `createOcsPlugin`:
 * tests point it at their own server on free ports and shorten the waits.
 * Every field has a default that suits real deployments.
 */
export interface OcsEnvironment {
  /** Ports of the Lync autodiscover web service (`LyncDiscover.<domain>`); default 443 and 80. */
  autodiscoverPorts?: {
    /** Port of the https autodiscover request. */
    https: number;
    /** Port of the plain http one. */
    http: number;
  };
  /**
   * Hosts tried when neither autodiscover nor DNS SRV names a server, in
   * order: `<prefix>.<domain>` on `port`; default sipinternal:5061,
   * sipexternal:443, sip:443.
   */
  hostFallbacks?: ReadonlyArray<{
    /** The host's first label ("sipinternal"). */
    prefix: string;
    /** The port to connect to (TLS). */
    port: number;
  }>;
  /** How long a SIP request waits for its final answer before it fails (default 30 s). */
  requestTimeoutMs?: number;
  /** How long connecting to one server candidate may take before the next is tried (default 15 s). */
  connectTimeoutMs?: number;
}

const MAX_REDIRECTS = 3;

export class OcsConnection implements ProtocolConnection {
  private transport: StreamTransport | undefined;
  private endpoint: SipEndpoint | undefined;
  private registrar: Registrar | undefined;
  private online = false;
  private closed = false;
  private session: AccountSession | undefined;
  /** Digest for the account's password, when the settings allow it: answers challenges on plain SIP servers. */
  private digest: DigestAuthenticator | undefined;
  /** The server answered REGISTER as OCS 2007 or later (`Supported: msrtc-event-categories`): it has conferencing. */
  private conferencing = true;
  /** Which kind of server this account signed in to. */
  flavour: Flavour | undefined;
  private readonly epid = randomBytes(5).toString('hex');

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly env: OcsEnvironment = {},
  ) {}

  async connect(): Promise<void> {
    let settings: OcsSettings;
    try {
      settings = readSettings(this.ctx.account.username, this.ctx.settings);
    } catch (error) {
      if (error instanceof SettingsError) throw error.code === 'ocs-invalid-sign-in-address' ? ConnectionError.invalidUsername(error.message) : ConnectionError.invalidSettings(error.message);
      throw error;
    }
    // Single sign-on takes the credentials from the user's Kerberos ticket cache: no password is asked
    // for, unless the server turns out to offer no Kerberos (then NTLM or Digest need it, as without SSO).
    let cached: string | undefined;
    const password = async (): Promise<string> => {
      if (cached === undefined) {
        const secret = await this.ctx.getSecret('password', { prompt: `Password for ${settings.signInAddress}` });
        if (secret === undefined || secret === '') throw ConnectionError.authenticationFailed('A password is required to sign in');
        cached = secret;
      }
      return cached;
    };
    if (settings.sso && (settings.authentication === 'ntlm' || settings.authentication === 'digest')) {
      this.ctx.log.info('Single sign-on applies to Kerberos only; signing in with the password');
    }
    if (!settings.sso || settings.authentication === 'ntlm' || settings.authentication === 'digest') await password();

    // The core gave up on this attempt (user went offline): stop waiting on the server.
    const onAbort = () => this.teardown();
    this.ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.run(settings, password);
    } finally {
      this.ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private async run(settings: OcsSettings, password: () => Promise<string>): Promise<void> {
    let candidates: AsyncIterable<ServerCandidate>;
    /** What went wrong while looking for the server (a broken autodiscover service), for the final error. */
    const problems: string[] = [];
    if (settings.server) {
      const { host, port } = settings.server;
      const transport = settings.transport === 'tcp' ? 'tcp' : 'tls';
      candidates = (async function* () {
        yield { host, port: port ?? (transport === 'tls' ? 5061 : 5060), transport, source: 'the configured server' } satisfies ServerCandidate;
      })();
    } else {
      candidates = discoverServers({
        domain: settings.domain,
        signInAddress: settings.signInAddress,
        transport: settings.transport,
        net: this.ctx.net,
        progress: (text) => this.ctx.progress(text),
        log: {
          debug: (text) => this.ctx.log.debug(text),
          warn: (text) => {
            problems.push(text);
            this.ctx.log.warn(text);
          },
        },
        signal: this.ctx.signal,
        autodiscoverPorts: this.env.autodiscoverPorts,
        hostFallbacks: this.env.hostFallbacks,
      });
    }

    let lastError: ConnectionError | undefined;
    let lastCandidate: ServerCandidate | undefined;
    for await (const first of candidates) {
      lastCandidate = first;
      if (this.ctx.signal.aborted || this.closed) throw ConnectionError.network('Connection cancelled');
      let candidate: ServerCandidate | undefined = first;
      for (let redirects = 0; candidate && redirects <= MAX_REDIRECTS; redirects++) {
        try {
          await this.attempt(candidate, settings, password);
          return;
        } catch (error) {
          this.teardown();
          if (error instanceof RedirectError) {
            this.ctx.log.info(`Redirected to ${error.target.host}:${error.target.port ?? ''}`);
            candidate = {
              host: error.target.host,
              port: error.target.port ?? (error.target.transport === 'tls' ? 5061 : 5060),
              transport: error.target.transport,
              source: 'a redirect',
            };
            continue;
          }
          const connectionError = ConnectionError.from(error);
          // Only an unreachable server is worth trying the next candidate for (through a proxy: one it could not reach).
          if ((connectionError.reason !== 'network' && connectionError.reason !== 'proxy-destination-unreachable') || settings.server) throw connectionError;
          lastError = connectionError;
          candidate = undefined;
        }
      }
      if (candidate) throw ConnectionError.other('Too many redirects from the server');
    }
    // Every server discovery named failed with a network error: say what was tried, and what autodiscover ran into.
    const tried = lastCandidate && lastError ? [`the last one tried, ${lastCandidate.host}:${lastCandidate.port} (${lastCandidate.source}), failed: ${lastError.message}`] : [];
    const why = [...problems, ...tried];
    throw ConnectionError.network(`Could not find a server for ${settings.domain}${why.length ? `: ${why.join('; ')}` : ''}`, lastError ? { cause: lastError } : {});
  }

  private async attempt(candidate: ServerCandidate, settings: OcsSettings, password: () => Promise<string>): Promise<void> {
    this.ctx.progress(`Connecting to ${candidate.host}:${candidate.port} (${candidate.source})`);
    const aor = Grammar.URIParse(`sip:${settings.signInAddress}`)!;
    let endpoint: SipEndpoint | undefined;
    const transport = new StreamTransport({
      host: candidate.host,
      port: candidate.port,
      secure: candidate.transport === 'tls',
      // Names are resolved there, with the configured DNS servers, or by a socks5h proxy.
      open: (options) => this.ctx.net.connect({ ...options, signal: this.ctx.signal }),
      connectTimeoutMs: this.env.connectTimeoutMs,
      outgoing: (text) => (endpoint ? endpoint.decorate(text) : text),
      trace: (direction, text) => this.ctx.log.debug(`SIP ${direction === 'in' ? '<<' : '>>'} ${text.split('\r\n')[0]}`),
    });
    this.transport = transport;
    await transport.connect();
    endpoint = new SipEndpoint({ transport, log: this.ctx.log, aor, userAgent: settings.userAgent, epid: this.epid, requestTimeoutMs: this.env.requestTimeoutMs });
    this.endpoint = endpoint;

    const authenticator = await this.authenticator(settings, password);
    const registrar = new Registrar({
      endpoint,
      authenticator,
      domain: settings.domain,
      local: () => transport.localAddress,
      transport: candidate.transport,
      onLost: (error) => this.lost(error),
    });
    this.registrar = registrar;
    endpoint.onIntegrityError = (error) => this.lost(ConnectionError.network(`Invalid message signature received: ${error.message}`, { cause: error }));
    endpoint.onRequest = (request) => void this.onRequest(request);
    transport.onDisconnect = (error) => {
      endpoint?.abortAll();
      if (this.online) this.lost(ConnectionError.network(`Connection to the server lost${error ? `: ${error.message}` : ''}`, { cause: error }));
    };

    this.ctx.progress('Signing in');
    const result = await registrar.register();
    // Keep-alive a little inside the server's idle timeout ([MS-SIPRE] 2.2.1 ms-keep-alive), 60 s when it names none.
    const keepAlive = result.keepAliveSeconds !== undefined && result.keepAliveSeconds > 0 ? result.keepAliveSeconds * 0.9 : 60;
    transport.startKeepAlive(Math.max(5, keepAlive) * 1000);
    registrar.scheduleRefresh(result.expires);
    this.usedScheme = authenticator?.scheme;
    this.conferencing = result.supported.some((v) => v.toLowerCase() === 'msrtc-event-categories');
    const flavour = detectFlavour(settings.flavour, result, authenticator?.scheme ?? '');
    this.flavour = flavour;
    // A standard proxy may challenge PUBLISH, SUBSCRIBE and MESSAGE too (RFC 3261 22.3); OCS sessions are signed instead.
    endpoint.challenges = flavour === 'simple' ? this.digest : undefined;
    const session = new AccountSession({
      flavour,
      endpoint,
      ctx: this.ctx,
      selfUri: `sip:${settings.signInAddress}`,
      contact: () => registrar.contact(),
      local: () => transport.localAddress,
      onSignedOff: (error) => this.lost(error, false),
      batched: result.supported.includes('adhoclist'),
      allowEvents: result.allowEvents,
    });
    this.session = session;
    this.ctx.progress('Loading contacts');
    await session.start();
    this.online = true;
    // Shown with the online state, e.g. by `parley accounts check`: "online (Kerberos, TLS)".
    this.ctx.sessionDetail?.(`${authenticator?.scheme ?? 'no authentication'}, ${candidate.transport.toUpperCase()}`);
    this.ctx.log.info(`Signed in to ${candidate.host}:${candidate.port}${result.server ? ` (${result.server})` : ''} with ${authenticator?.scheme ?? 'no'} authentication over ${candidate.transport.toUpperCase()}`);
  }

  private async authenticator(settings: OcsSettings, password: () => Promise<string>): Promise<Authenticator | undefined> {
    const kerberos = async () =>
      new KerberosAuthenticator({ sso: settings.sso, principal: kerberosPrincipal(settings.login), password: settings.sso ? undefined : await password() });
    const others = async () => {
      const secret = await password();
      const digest = new DigestAuthenticator({ username: settings.login.includes('@') ? settings.login.split('@')[0]! : settings.login, password: secret });
      this.digest = settings.authentication === 'ntlm' ? undefined : digest;
      return { ntlm: new NtlmAuthenticator({ login: settings.login, password: secret }), digest };
    };
    this.digest = undefined;
    switch (settings.authentication) {
      case 'kerberos':
        return kerberos();
      case 'digest':
        return (await others()).digest;
      case 'ntlm':
        return (await others()).ntlm;
      default:
        // Auto: Kerberos when offered, then NTLM for Microsoft servers, Digest for standard registrars; picked by the first challenge.
        return new AutoAuthenticator(await kerberos(), others, settings.sso, (text) => this.ctx.log.info(text));
    }
  }

  /** The authentication scheme the signed-in session uses (Kerberos, NTLM, Digest), for diagnostics. */
  get authenticationScheme(): string | undefined {
    return this.registrar ? this.usedScheme : undefined;
  }
  private usedScheme: string | undefined;

  private async onRequest(request: IncomingRequest): Promise<void> {
    const method = request.message.method;
    try {
      if (this.session && (await this.session.onRequest(request))) return;
      if (method === 'NOTIFY' || method === 'BENOTIFY') {
        const error = handleRegistrationNotify(request.raw);
        if (method === 'NOTIFY') await this.endpoint?.respond(request, 200, 'OK');
        if (error) this.lost(error, false);
        return;
      }
      if (method === 'OPTIONS') {
        await this.endpoint?.respond(request, 200, 'OK', ['Allow: INVITE, MESSAGE, INFO, SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY']);
        return;
      }
      if (method === 'ACK') return;
      await this.endpoint?.respond(request, 501, 'Not implemented');
    } catch (error) {
      this.ctx.log.warn(`Could not answer ${method}: ${(error as Error).message}`);
    }
  }

  private lost(error: ConnectionError, deregister = false): void {
    if (this.closed) return;
    const wasOnline = this.online;
    this.online = false;
    this.closed = true;
    if (deregister) void this.registrar?.unregister();
    this.registrar?.stop();
    this.teardown();
    if (wasOnline) this.ctx.connectionLost(error);
  }

  private teardown(): void {
    this.session?.subscriptions.stop();
    this.session = undefined;
    this.registrar?.stop();
    this.endpoint?.abortAll();
    const transport = this.transport;
    this.transport = undefined;
    if (transport) {
      transport.onDisconnect = undefined;
      void transport.disconnect();
    }
  }

  async disconnect(): Promise<void> {
    if (this.closed && !this.transport) return;
    this.closed = true;
    const registrar = this.registrar;
    if (this.online) await this.session?.stop().catch(() => undefined);
    if (this.online && registrar) await registrar.unregister(3000);
    this.online = false;
    this.teardown();
  }

  private requireSession(): AccountSession {
    if (!this.session || !this.online) throw new MessageError('no-route', 'The account is not signed in');
    return this.session;
  }

  // What the user gives (addresses, names) is checked before anything else: a value that cannot
  // go into a SIP header or the contact list's XML as it is gets refused, and nothing is sent.

  async sendMessage(target: Target, message: OutgoingMessage): Promise<{ protocolId?: string } | void> {
    if (target.kind === 'chat' && isMultipartyRoom(target.room) && this.session?.multiparty) return this.requireSession().multiparty!.send(target.room, message);
    if (target.kind === 'chat') {
      const conferences = this.requireSession().conferences;
      if (!conferences) throw new MessageError('not-supported', 'Group chats are not supported on this server');
      const protocolId = await conferences.send(target.room, message);
      return protocolId === undefined ? undefined : { protocolId };
    }
    let peer: string;
    try {
      peer = peerAddress(target.peer);
    } catch (error) {
      throw new MessageError('invalid-address', (error as OcsInputError).message, { cause: error });
    }
    await this.requireSession().send(peer, message);
  }

  async setTyping(peer: string, state: TypingState): Promise<void> {
    await this.requireSession().typing(peerAddress(peer), state);
  }

  /** Typing in a group conversation: to its MCU, or to each party of one without an MCU. */
  async setChatTyping(room: string, state: TypingState): Promise<void> {
    if (!this.session || !this.online) return;
    if (isMultipartyRoom(room)) await this.session.multiparty?.typing(room, state);
    else await this.session.conferences?.typing(room, state);
  }

  async setPresence(presence: Presence): Promise<void> {
    await this.requireSession().setPresence(presence);
  }

  async addBuddy(entry: RosterEntry): Promise<void> {
    await this.requireSession().addBuddy(checkedEntry(entry));
  }

  async removeBuddy(name: string): Promise<void> {
    // A name that is no address was never on the server (nor watched): there is nothing to send.
    if (!isPeerAddress(name)) return;
    await this.requireSession().removeBuddy(peerAddress(name));
  }

  async updateBuddy(entry: RosterEntry): Promise<void> {
    await this.requireSession().updateBuddy(checkedEntry(entry));
  }

  private requireConferences(): Conferences {
    const conferences = this.requireSession().conferences;
    if (!conferences) throw new ConferenceError('This server has no group conversations (it is not an OCS / Lync server)');
    return conferences;
  }

  /**
   * Joins a conference by its address (`conf:sip:…;gruu;opaque=app:conf:focus:id:…`, or the
   * focus URI itself). A group conversation without an MCU lives in its dialogs, which end
   * with the connection: when the core asks again after a reconnect, it is made again with
   * the parties it had (under the same Call-ID); one we no longer know of is over.
   */
  async joinChat(room: string): Promise<void> {
    if (isMultipartyRoom(room)) {
      if (await this.session?.multiparty?.rejoin(room)) return;
      this.ctx.chats.left(room, 'The group conversation ended when the connection was lost; start a new one');
      return;
    }
    try {
      await this.requireConferences().join(room);
    } catch (error) {
      // A rejoin after a reconnect that fails (the conference is over): the chat is no longer
      // joined, and says why. For a room never joined this changes nothing.
      this.ctx.chats.left(room, `Not in this conversation: ${(error as Error).message}`);
      throw error;
    }
  }

  async leaveChat(room: string): Promise<void> {
    if (isMultipartyRoom(room)) await this.session?.multiparty?.leave(room);
    else await this.session?.conferences?.leave(room);
  }

  async setTopic(room: string, topic: string): Promise<void> {
    await this.requireConferences().setSubject(room, nameText(topic, 'subject'));
  }

  /** Starts a new group conversation (an ad-hoc conference); resolves with its room name. */
  async createConference(subject = '', invitees: readonly string[] = []): Promise<string> {
    const checked = invitees.map((who) => peerAddress(who));
    return this.requireConferences().create(nameText(subject, 'subject'), checked);
  }

  /**
   * Adds `who` to a conversation: in a group conversation they are invited;
   * a one-to-one conversation becomes a group conversation with both, a
   * conference where the server holds them, else (a server without
   * conferencing, as OCS 2005) a multiparty IM. Resolves with the group
   * conversation's room name.
   */
  async inviteToConversation(target: Target, who: string): Promise<string> {
    const address = peerAddress(who);
    // A group conversation without an MCU grows by its own INVITEs; on a server that answered as
    // OCS 2005 (no msrtc-event-categories, so no conferencing), a one-to-one one becomes such a
    // group, as pidgin-sipe and Communicator 2005 do it.
    const multiparty = this.session?.multiparty;
    if (multiparty && (target.kind === 'chat' ? isMultipartyRoom(target.room) : !this.conferencing)) {
      if (target.kind === 'im') return multiparty.start([peerAddress(target.peer), address]);
      await multiparty.invite(target.room, address);
      return target.room;
    }
    const conferences = this.requireConferences();
    if (target.kind === 'chat') {
      await conferences.invite(target.room, address);
      return target.room;
    }
    const peer = peerAddress(target.peer);
    try {
      return await conferences.escalate(peer, [address]);
    } catch (error) {
      // A server that announced conferencing but whose focus factory gives no conference.
      if (!(error instanceof ConferenceError && error.creating) || !multiparty) throw error;
      this.ctx.log.info(`No conference to be had (${error.message}): the conversation continues as a multiparty IM`);
      return multiparty.start([peer, address]);
    }
  }

  /** The user closed the conversation: end its IM dialog (BYE). */
  async closeConversation(target: Target): Promise<void> {
    if (target.kind === 'im') await this.session?.im.close(target.peer);
  }

  /** For tests and diagnostics: the signed-in session's features. */
  get features(): AccountSession | undefined {
    return this.session;
  }

  /** For tests and diagnostics: how many REGISTERs the last sign-in sent. */
  get registerCount(): number {
    return this.registrar?.registerCount ?? 0;
  }
}

/** A roster entry from the user, its address in the form the server keeps; refused when any part cannot be sent. */
function checkedEntry(entry: RosterEntry): RosterEntry {
  const checked: RosterEntry = { name: peerAddress(entry.name) };
  if (entry.alias !== undefined) checked.alias = nameText(entry.alias, 'display name');
  if (entry.groups !== undefined) checked.groups = entry.groups.map((g) => nameText(g, 'group name'));
  return checked;
}

/**
 * Picks by what the server's first 401 offers, in pidgin-sipe's order:
 * Kerberos when offered and a ticket can be had with the password, else NTLM
 * for Microsoft servers, Digest for standard registrars.
 */
class AutoAuthenticator implements Authenticator {
  private chosen: Authenticator | undefined;
  constructor(
    private readonly kerberos: KerberosAuthenticator,
    /** NTLM and Digest, made when needed: with single sign-on the password is only asked for then. */
    private readonly others: () => Promise<{ ntlm: NtlmAuthenticator; digest: DigestAuthenticator }>,
    private readonly sso: boolean,
    private readonly log: (text: string) => void,
  ) {}
  get scheme(): string {
    return this.chosen?.scheme ?? 'auto';
  }
  get handshakeComplete(): boolean {
    return this.chosen?.handshakeComplete ?? false;
  }
  async challenge(values: readonly string[]): Promise<void> {
    if (!this.chosen) {
      const offersNtlm = values.some((v) => /^\s*ntlm\b/i.test(v));
      const offersDigest = values.some((v) => /^\s*digest\b/i.test(v));
      const offersKerberos = values.some((v) => /^\s*kerberos\b/i.test(v));
      if (offersKerberos && kerberosAvailable()) {
        try {
          await this.kerberos.challenge(values);
          this.chosen = this.kerberos;
          return;
        } catch (error) {
          // No ticket to be had with the password (no KDC for the realm, an unknown principal): NTLM if the
          // server allows it. With single sign-on a Kerberos failure (no ticket, an expired one) is the answer.
          if (!(error instanceof KerberosError) || !offersNtlm || this.sso) {
            this.chosen = this.kerberos;
            throw error;
          }
          this.kerberos.reset();
          this.log(`Kerberos not possible (${error.message}); using NTLM`);
        }
      }
      const { ntlm, digest } = await this.others();
      this.chosen = offersNtlm || !offersDigest ? ntlm : digest;
    }
    await this.chosen.challenge(values);
  }
  explain(error: unknown) {
    return this.chosen?.explain?.(error);
  }
  registered(): void {
    this.chosen?.registered();
  }
  reset(): void {
    this.chosen?.reset();
  }
  authorization(message: Parameters<Authenticator['authorization']>[0]): string | undefined {
    return this.chosen?.authorization(message);
  }
  verify(message: Parameters<Authenticator['verify']>[0]): 'accept' | 'ignore' {
    return this.chosen ? this.chosen.verify(message) : 'accept';
  }
}
