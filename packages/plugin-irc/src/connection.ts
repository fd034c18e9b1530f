import irc, { type Client } from 'irc-framework';
import {
  type ArchivePage,
  ConnectionError,
  MessageError,
  type ConnectionContext,
  type FileTarget,
  type OutgoingFile,
  type OutgoingMessage,
  type Presence,
  type ProtocolConnection,
  type RosterEntry,
  type Target,
  type TypingState,
} from '@parley/core';
import { BatchTracker } from './batch.js';
import { newCapabilitiesWanted, WANTED_CAPABILITIES, wantedCapabilities } from './capabilities.js';
import { Channels } from './channels.js';
import { ChatHistory } from './chathistory.js';
import { SendConfirmations } from './confirmations.js';
import { actionBody, handleCtcpRequests, versionReply } from './ctcp.js';
import { IrcError, registrationError, serverClosedLink } from './errors.js';
import { identityChange, invite } from './identity.js';
import { messageId, PLAYBACK_TAG, routeIncoming, serverTime, type Incoming, type MessageKind, type ParsedLine } from './incoming.js';
import { OutgoingQueue, type LineSink, type SendTicket } from './flood.js';
import { LabeledSends } from './labels.js';
import { lineText, outgoingLines, targetName } from './messages.js';
import { BuddyWatch } from './monitor.js';
import { identifyWithNickServ } from './nickserv.js';
import { resolveSettings, type IrcSettings } from './options.js';
import { rawLine, word } from './sanitize.js';
import { saslFailure, saslOptions, servicesSignIn } from './sasl.js';
import { parseSts, StsPolicies, stsValueOf } from './sts.js';
import { createTransportClass } from './transport.js';
import { readTypingTag, typingLine } from './typing.js';
import { whois } from './whois.js';
import { dccHost, dccLine } from './dcc/wiring.js';
import { DccTransfers } from './dcc/manager.js';


/** Where one link goes; `strict` when strict transport security chose it (its certificate must verify). */
interface Endpoint {
  port: number;
  tls: boolean;
  strict?: boolean;
}

/** Numerics that end registration for good (see errors.ts). */
const FATAL_BEFORE_WELCOME = new Set(['463', '464', '465']);
/** A server silent this long (we PING it every 30 s) is gone. */
const PING_TIMEOUT_MS = 120_000;
/** How long connect() waits for automatic joins before reporting the account online anyway. */
const AUTOJOIN_WAIT_MS = 10_000;

/** "Welcome to the Internet Relay Network nick!user@host" (RFC 2812 section 5.1, 001): our full prefix. */
export function sourceFromWelcome(text: string): string | undefined {
  const last = text.trim().split(' ').pop() ?? '';
  return /^[^\s!@]+![^\s!@]+@[^\s!@]+$/.test(last) ? last : undefined;
}

/**
 * One IRC account on one network. irc-framework's own reconnect is off:
 * when the link drops this reports `connectionLost` and the core decides
 * when to build a new connection, which then rejoins (keys come from the
 * shared `keys` map) and re-identifies like the first time.
 */
export class IrcConnection implements ProtocolConnection, LineSink {
  private client: Client | undefined;
  private channels: Channels | undefined;
  private confirmations: SendConfirmations | undefined;
  private readonly labels = new LabeledSends();
  private readonly batches = new BatchTracker();
  private history: ChatHistory | undefined;
  /** The command of the line being handled: the library's events do not say which line raised them. */
  private currentCommand = '';
  private buddyWatch: BuddyWatch | undefined;
  private settings: IrcSettings | undefined;
  private registered = false;
  private closing = false;
  /** Why the link failed, when we learned it before the socket closed (numeric, ERROR line, certificate). */
  private failure: ConnectionError | undefined;
  private socketError: Error | undefined;
  private source = '';
  private pendingConnect: { resolve(): void; reject(e: ConnectionError): void } | undefined;
  private closed: Promise<void> = Promise.resolve();
  /** DCC file transfers; undefined on a core without file transfer. */
  private dcc: DccTransfers | undefined;

  /** The link this object drove has closed: nothing more is written or confirmed through it. */
  private linkClosed = false;
  /** Every capability this connection would take (capabilities.ts): a CAP NEW offering none of them is only recorded. */
  private wanted: ReadonlySet<string> = new Set();
  /** The services account we are signed in to (900 RPL_LOGGEDIN), undefined when none. */
  private loggedInAs: string | undefined;
  /** A SASL exchange after registration is running (sasl offered again with CAP NEW). */
  private reauthenticating = false;
  /** Strict transport security policies this account has seen (sts.ts). */
  private readonly sts: StsPolicies;
  /** The TLS port a plain link's CAP LS pointed to (sts): the link is dropped and opened again there. */
  private stsUpgrade: number | undefined;
  /** Where the current link goes. */
  private endpoint: Endpoint = { port: 0, tls: false };

  constructor(
    private readonly ctx: ConnectionContext,
    private readonly keys: Map<string, string>,
    /** The account's outgoing queue (flood.ts), shared by its successive connections. */
    private readonly outgoing: OutgoingQueue<IrcConnection> = new OutgoingQueue(),
  ) {
    this.sts = new StsPolicies(ctx);
  }

  get nick(): string {
    return this.client?.user.nick ?? this.settings?.nick ?? '';
  }

  async connect(): Promise<void> {
    const ctx = this.ctx;
    const s = resolveSettings(ctx.account.username, ctx.settings);
    this.settings = s;
    if (s.host === '') throw ConnectionError.invalidSettings('No server is set', { hint: 'Use nick@server as the username or set Server' });
    try {
      word(s.nick, 'nick');
      for (const alt of s.alternativeNicks) word(alt, 'alternative nick');
    } catch (error) {
      throw ConnectionError.invalidUsername(error instanceof Error ? error.message : String(error));
    }
    const password = await ctx.getSecret('password');
    const serverPassword = await ctx.getSecret('serverPassword');
    if (ctx.signal.aborted) throw ConnectionError.other('Connection attempt was cancelled');
    // A strict transport security policy this host gave us over TLS: plain text is not used while it lasts.
    const pinned = s.tls ? undefined : this.sts.portFor(s.host);
    if (pinned !== undefined) ctx.log.info('Using TLS as the server asked (strict transport security)', { port: pinned });
    let endpoint: Endpoint = pinned === undefined ? { port: s.port, tls: s.tls } : { port: pinned, tls: true, strict: true };
    for (;;) {
      this.stsUpgrade = undefined;
      try {
        await this.open(s, password, serverPassword, endpoint);
        return;
      } catch (error) {
        const upgrade = this.stsUpgrade;
        // Once only, from plain text to TLS: a TLS link is never sent anywhere else.
        if (upgrade === undefined || endpoint.tls || ctx.signal.aborted) throw error;
        ctx.log.info('The server asks for TLS (strict transport security): connecting again', { port: upgrade });
        endpoint = { port: upgrade, tls: true, strict: true };
      }
    }
  }

  /** One link to the server at `endpoint`: resolves once signed in, rejects with why it could not. */
  private open(s: IrcSettings, password: string | undefined, serverPassword: string | undefined, endpoint: Endpoint): Promise<void> {
    const ctx = this.ctx;
    this.registered = false;
    this.failure = undefined;
    this.socketError = undefined;
    this.linkClosed = false;
    this.loggedInAs = undefined;
    this.reauthenticating = false;
    this.endpoint = endpoint;
    ctx.progress(`Connecting to ${s.host}:${endpoint.port}${endpoint.tls && !s.tls ? ' (TLS, as the server asked)' : ''}`, 1, 3);

    const client = new irc.Client();
    this.client = client;
    const channels = new Channels(client, ctx, this.keys, (line, options) => this.pace(line, options));
    this.channels = channels;
    this.confirmations = new SendConfirmations(
      (token) => client.raw(`PING :${token}`),
      (a, b) => client.caseCompare(a, b),
    );
    // MONITOR goes ahead of waiting messages; ISON polls, which come back every few seconds, wait their turn.
    const buddyWatch = new BuddyWatch(client, ctx, s.isonIntervalMs, (line, options) => this.pace(line, options));
    this.buddyWatch = buddyWatch;
    const directMessages = routeIncoming(client, ctx, {
      isChannel: (n) => channels.isChannel(n),
      ownMessage: (e, kind) => this.ownMessage(e, kind),
    });
    client.requestCap([...WANTED_CAPABILITIES]);
    const saslUsable = s.sasl && password !== undefined && password !== '';
    this.wanted = wantedCapabilities(saslUsable);
    const history = new ChatHistory({
      ctx,
      write: (line) => this.pace(line, { ahead: true }),
      available: () => client.network.cap.isEnabled('draft/chathistory') || client.network.cap.isEnabled('chathistory'),
      serverLimit: () => {
        const limit = Number(client.network.supports('CHATHISTORY'));
        return Number.isInteger(limit) && limit > 0 ? limit : undefined;
      },
      isChannel: (n) => channels.isChannel(n),
      ownNick: () => client.user.nick,
      sameName: (a, b) => client.caseCompare(a, b),
      fold: (n) => client.caseLower(n),
    });
    this.history = history;
    handleCtcpRequests(client, ctx.log);
    const reporter = ctx.transfers;
    const dcc = reporter === undefined ? undefined : new DccTransfers(dccHost(client, ctx, reporter));
    this.dcc = dcc;

    const nicks = [...s.alternativeNicks];

    const done = new Promise<void>((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
    });
    this.closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    // Every line passes here before irc-framework's handlers: numerics it has no event for.
    client.use((_c: unknown, rawMiddleware: { use(fn: (...a: unknown[]) => void): void }) => {
      rawMiddleware.use((command: unknown, message: unknown, _raw: unknown, _client: unknown, next: unknown) => {
        this.currentCommand = String(command);
        try {
          if (this.ircv3Line(String(command), message as ParsedLine)) return;
        } catch (error) {
          ctx.log.warn('Skipped a server line that could not be handled', { command: String(command), error: error instanceof Error ? error.message : String(error) });
          return;
        }
        // Plain messages, the bulk of the traffic, are delivered here and never reach the library's dispatch.
        if (command === 'PRIVMSG' || command === 'NOTICE') {
          try {
            if (dcc !== undefined && dccLine(dcc, client, message as ParsedLine & { hostname?: string })) return;
            if (directMessages.parsed(message as ParsedLine)) return;
          } catch (error) {
            ctx.log.warn('Skipped a server line that could not be handled', { command, error: error instanceof Error ? error.message : String(error) });
            return;
          }
        } else {
          try {
            this.onLine(String(command), ((message as { params?: unknown }).params as string[] | undefined) ?? []);
          } catch (error) {
            ctx.log.warn('Could not inspect a server line', { error: error instanceof Error ? error.message : String(error) });
          }
        }
        // irc-framework's handlers run inside next(); one that throws on a malformed line is logged and skipped here.
        try {
          (next as () => void)();
        } catch (error) {
          ctx.log.warn('Skipped a server line that could not be handled', { command: String(command), error: error instanceof Error ? error.message : String(error) });
        }
      });
    });

    // IRCv3 typing (client tag on TAGMSG) from someone in a channel we are in; our own comes back with echo-message.
    client.on('tagmsg', (e) => {
      const state = readTypingTag(e.tags);
      if (state === undefined || !e.nick || typeof e.target !== 'string' || client.caseCompare(e.nick, client.user.nick)) return;
      if (channels.isJoined(e.target)) ctx.chats.typing?.(e.target, e.nick, state);
    });
    client.on('nick in use', (e) => {
      if (this.registered) {
        ctx.notice(`The nick ${e.nick} is in use`, undefined, true);
        return;
      }
      const next = nicks.shift();
      if (next === undefined) {
        this.fail(registrationError('433', e.reason));
        return;
      }
      ctx.progress(`Nick ${e.nick} is in use, trying ${next}`, 1, 3);
      client.changeNick(next);
    });
    client.on('nick invalid', (e) => {
      if (this.registered) ctx.notice(`The nick ${e.nick} is not allowed: ${e.reason}`, undefined, true);
      else this.fail(registrationError('432', e.reason));
    });
    client.on('sasl failed', (e) => {
      // After registration a failure only answers a re-authentication (and never ends a working session).
      if (this.registered) {
        if (this.reauthenticating) {
          this.reauthenticating = false;
          ctx.notice(`Signing in to the account with SASL failed: ${saslFailure(e)?.message ?? e.reason}`, undefined, true);
        } else {
          ctx.log.warn('Ignored a SASL failure numeric after registration', { reason: e.reason });
        }
        return;
      }
      const error = saslFailure(e);
      if (error !== undefined) this.fail(error);
    });
    client.on('irc error', (e) => {
      if (e.error === 'irc') this.failure ??= serverClosedLink(String(e.reason ?? ''), !this.registered && serverPassword !== undefined && serverPassword !== '');
      else if (e.error === 'password_mismatch' && !this.registered) this.fail(registrationError('464', String(e.reason ?? 'Password incorrect')));
      else if (this.registered) ctx.notice(String(e.reason ?? e.error), undefined, true);
    });
    client.on('loggedin', (e) => {
      this.loggedInAs = e.account;
      if (this.reauthenticating) {
        this.reauthenticating = false;
        ctx.notice(`Signed in to the account ${e.account} with SASL`);
      }
    });
    client.on('loggedout', () => {
      this.loggedInAs = undefined;
    });
    client.on('cap ack', (e) => {
      // SASL 3.2 with cap-notify: sasl offered again after registration (the server's services came
      // back, or were off at sign-in) and acknowledged: sign in now if we are not.
      if (!this.registered || !saslUsable || this.loggedInAs !== undefined || this.reauthenticating) return;
      if (!Object.prototype.hasOwnProperty.call(e.capabilities, 'sasl')) return;
      this.reauthenticating = true;
      ctx.log.info('SASL offered after registration: signing in to the account');
      client.raw('AUTHENTICATE PLAIN');
    });
    client.on('socket close', (error) => {
      if (error instanceof Error) this.socketError = error;
    });
    client.on('registered', () => {
      // A failed SASL exchange already closes the link; registration may still complete meanwhile.
      if (this.failure !== undefined) return;
      const signIn = servicesSignIn({ password, sasl: s.sasl, nickserv: s.nickserv, saslNegotiated: client.network.cap.isEnabled('sasl') });
      if (signIn instanceof ConnectionError) {
        this.fail(signIn);
        return;
      }
      this.registered = true;
      ctx.progress('Signed on', 2, 3);
      if (signIn === 'nickserv' && password !== undefined) identifyWithNickServ(client, s.saslAccount, password);
      buddyWatch.start();
      history.signedOn(Date.now());
      this.outgoing.configure(s.flood);
      this.outgoing.attach(this);
      void this.autoJoin(s.autoJoin).then(() => this.settleConnect());
    });
    client.on('away', (e) => {
      // RPL_AWAY answering a message to someone away (irc-framework keeps those inside a WHOIS to itself) is said
      // in that conversation; an AWAY line (away-notify) only changes a buddy's presence (observe).
      if (this.currentCommand === 'AWAY') return;
      if (e.self === false && e.nick && e.message) ctx.notice(`${e.nick} is away: ${e.message}`, { kind: 'im', peer: e.nick });
    });
    client.on('nick', (e) => {
      if (client.caseCompare(e.new_nick, client.user.nick) && this.source.includes('!')) this.source = e.new_nick + this.source.slice(this.source.indexOf('!'));
    });

    client.on('close', () => this.onClose());
    ctx.signal.addEventListener('abort', () => {
      if (!this.registered) this.fail(ConnectionError.other('Connection attempt was cancelled'));
    });

    client.connect({
      host: s.host,
      port: endpoint.port,
      tls: endpoint.tls,
      nick: s.nick,
      username: s.ident,
      gecos: s.realName,
      ...(serverPassword === undefined || serverPassword === '' ? {} : { password: serverPassword }),
      ...saslOptions(s.sasl, s.saslAccount, password),
      version: versionReply(s.answerVersion, s.versionText),
      auto_reconnect: false,
      ping_interval: 30,
      // The transport watches for silence itself: the library's own check re-arms a timer on every line.
      ping_timeout: 0,
      // Our messages come back as the server relayed them: with labeled-response, the confirmation of each line (see labels.ts).
      enable_echomessage: true,
      // A new host or real name arrives as one line, applied quietly (identity.ts), not as a quit and rejoin.
      enable_chghost: true,
      enable_setname: true,
      transport: createTransportClass({
        log: ctx.log,
        encoding: s.encoding,
        fallbackEncoding: s.fallbackEncoding,
        // A link strict transport security chose is secure or nothing: a certificate that fails is not put to the user.
        open: (options) => ctx.net.connect(endpoint.strict === true ? { ...options, strictCertificate: true } : options),
        idleTimeoutMs: PING_TIMEOUT_MS,
        directLine: (line) => directMessages.raw(line),
      }),
    });
    return done;
  }

  /**
   * IRCv3 framing before anything else sees a line: BATCH lines are taken
   * here (the library would hold a batch's lines until it ends, and loses
   * those of nested batches), a batched line loses its batch tag after its
   * batch's label is copied onto it, and answers to our labeled lines go to
   * `labels`. Returns true when the line was fully handled.
   */
  private ircv3Line(command: string, line: ParsedLine): boolean {
    const tags = line.tags as Record<string, string | undefined>;
    // Dropping a plain link for TLS (sts): nothing more is negotiated or answered on it.
    if (this.stsUpgrade !== undefined) return true;
    if (command === 'CAP' && this.stsLine(line.params)) return true;
    if (command === 'CAP' && line.params[1]?.toUpperCase() === 'NEW') {
      const list = line.params[line.params.length - 1];
      const client = this.client;
      if (client !== undefined && !newCapabilitiesWanted(list, this.wanted, (cap) => client.network.cap.isEnabled(cap))) {
        // Nothing for us: noted as available, without the empty CAP REQ the library would answer with.
        for (const word of (list ?? '').split(' ')) {
          const eq = word.indexOf('=');
          const name = eq === -1 ? word : word.slice(0, eq);
          if (name !== '' && name.length <= 100) client.network.cap.available.set(name, eq === -1 ? '' : word.slice(eq + 1, eq + 1 + 1000));
        }
        return true;
      }
    }
    if (command === 'BATCH') {
      const event = this.batches.onBatchLine(line.params, tags);
      if (event?.kind === 'start') this.history?.batchStarted(event.batch);
      if (event?.kind === 'end') {
        this.history?.batchEnded(event.batch);
        if (event.batch.type === 'labeled-response' && event.batch.label !== undefined) this.labels.reply(event.batch.label, { kind: 'batch-end' });
      }
      return true;
    }
    // Our own WHOX queries (channels.ts): the library would take them for a WHO it never sent.
    if (command === '354' && this.channels?.onWhox(line.params) === true) return true;
    if (tags.batch !== undefined) {
      // Played-back history is delivered by ChatHistory, never as live messages.
      if (this.history?.line(this.batches.of(tags), command, line) === true) return true;
      const label = this.batches.labelOf(tags);
      // A bouncer's buffer played back as we attach (ZNC): what was said while we were away.
      if (this.batches.enclosing(tags, 'znc.in/playback') !== undefined) tags[PLAYBACK_TAG] = '';
      delete tags.batch;
      if (label !== undefined) tags.label = label;
    }
    this.observe(command, line);
    const label = tags.label;
    if (label === undefined || !this.labels.owns(label)) return false;
    if (command === 'ACK') {
      this.labels.reply(label, { kind: 'ack' });
      return true;
    }
    // An echo (PRIVMSG/NOTICE) is matched in ownMessage, where every path for messages meets.
    if (command === 'PRIVMSG' || command === 'NOTICE') return false;
    if (/^[45]\d\d$/.test(command) || command === 'FAIL') {
      const params = line.params;
      this.labels.reply(label, { kind: 'refusal', command, text: String(params[params.length - 1] ?? '') });
    } else {
      this.labels.reply(label, { kind: 'other' });
    }
    return false;
  }

  /**
   * `sts` in CAP LS (or NEW). On a plain link with a port: the link is
   * dropped before registering and opened again with TLS there (returns
   * true: the library must not go on negotiating). Over TLS: the policy is
   * stored for its duration, refreshed, or removed (duration 0).
   */
  private stsLine(params: readonly string[]): boolean {
    const sub = params[1]?.toUpperCase();
    if (sub !== 'LS' && sub !== 'NEW') return false;
    const value = stsValueOf(params[params.length - 1]);
    if (value === undefined) return false;
    const policy = parseSts(value);
    const host = this.settings?.host ?? '';
    if (!this.endpoint.tls) {
      if (sub !== 'LS' || this.registered || policy.port === undefined) return false;
      this.stsUpgrade = policy.port;
      this.fail(ConnectionError.network('The server asks for TLS (strict transport security)'));
      return true;
    }
    if (policy.duration === undefined) return false;
    const outcome = this.sts.seenOverTls(host, this.endpoint.port, policy.duration);
    if (outcome !== 'unchanged') this.ctx.log.info(outcome === 'stored' ? 'Strict transport security policy stored' : 'Strict transport security policy removed', { host, port: this.endpoint.port, duration: policy.duration });
    return false;
  }

  /** What chat history needs from live lines: each conversation's latest server time, and our joins. */
  private observe(command: string, line: ParsedLine): void {
    const history = this.history;
    const client = this.client;
    if (history === undefined || client === undefined) return;
    if (command === 'PRIVMSG' || command === 'NOTICE') {
      const time = serverTime(line.tags.time);
      const to = line.params[0];
      if (time === undefined || typeof to !== 'string' || !line.nick) return;
      const target = client.network.extractTargetGroup(to)?.target ?? to;
      const conversation = this.isChannel(target) || client.caseCompare(line.nick, client.user.nick) ? target : line.nick;
      history.seen(conversation, time, messageId(line.tags));
    } else if (command === 'JOIN' && line.nick && client.caseCompare(line.nick, client.user.nick) && typeof line.params[0] === 'string') {
      history.joined(line.params[0], serverTime(line.tags.time));
    } else if (command === 'FAIL' && line.params[0]?.toUpperCase() === 'CHATHISTORY') {
      history.failed(line.params);
    } else if (command === 'AWAY' && line.nick && !client.caseCompare(line.nick, client.user.nick)) {
      // away-notify: someone we share a channel with went away or came back; a buddy's presence follows.
      this.buddyWatch?.awayChanged(line.nick, line.params[0]);
    } else if (command === 'INVITE') {
      this.onInvite(line);
    }
    // account-notify, account-tag, chghost, setname: who is behind a nick, applied live.
    const change = identityChange(command, line);
    if (change === undefined) return;
    if (client.caseCompare(change.nick, client.user.nick)) {
      // Our own ACCOUNT line (a NickServ IDENTIFY, a logout): whether a later SASL offer is worth taking.
      if (command === 'ACCOUNT') this.loggedInAs = change.account ?? undefined;
      return;
    }
    this.channels?.identityChanged(change);
    this.buddyWatch?.identityChanged(change);
  }

  /**
   * An INVITE: to us, a notice with the channel to join; to someone else
   * (invite-notify, sent to a channel's operators), a line in that channel.
   */
  private onInvite(line: ParsedLine): void {
    const client = this.client;
    const parsed = invite(line);
    if (client === undefined || parsed === undefined) return;
    if (client.caseCompare(parsed.invited, client.user.nick)) {
      this.ctx.notice(`${parsed.by} invites you to join ${parsed.channel} (/join ${parsed.channel})`);
    } else if (this.channels?.isJoined(parsed.channel) === true) {
      this.ctx.chats.system(parsed.channel, `${parsed.by} invited ${parsed.invited} to join`);
    }
  }

  /**
   * A line that is not a message (JOIN, PART, WHO, MONITOR, CHATHISTORY)
   * goes out through flood control (flood.ts says which go ahead of waiting
   * messages); `written` runs once it is on the wire. A link that closed
   * writes nothing more.
   */
  private pace(line: string, options: { written?: () => void; ahead?: boolean } = {}): void {
    if (this.linkClosed) return;
    this.outgoing.enqueueLine(line, options);
  }

  /** LineSink (flood.ts): a paced line that is not a message goes out now. */
  writeLine(line: string): void {
    if (!this.linkClosed) this.client?.raw(line);
  }

  /**
   * A PRIVMSG/NOTICE from our own nick. With echo-message it is either the
   * echo of a line we sent (matched by its label, or by target and text when
   * the server cannot label) or a message another client of this account
   * sent (a bouncer, ergo's multiclient), shown as ours.
   */
  private ownMessage(e: Incoming, kind: MessageKind): boolean {
    const client = this.client;
    if (client === undefined || !client.network.cap.isEnabled('echo-message')) return false;
    const msgid = messageId(e.tags);
    const time = typeof e.time === 'number' && Number.isFinite(e.time) ? e.time : undefined;
    const label = e.tags?.label;
    if (label !== undefined && this.labels.reply(label, { kind: 'echo', msgid, time })) return true;
    const text = kind.action === true ? actionBody(e.message) : e.message;
    if (this.confirmations?.echo(e.target, text, msgid, time) === true) return true;
    const isChannel = this.channels?.isChannel(e.target) ?? false;
    this.ctx.receiveMessage({
      conversation: isChannel ? { kind: 'chat', room: e.target } : { kind: 'im', peer: e.target },
      sender: e.nick,
      text: e.message,
      fromSelf: true,
      ...(kind.action === true || kind.notice === true ? { flags: { ...kind } } : {}),
      ...(time === undefined ? {} : { timestamp: time }),
      ...(msgid === undefined ? {} : { protocolId: msgid }),
    });
    return true;
  }

  private onLine(command: string, params: readonly string[]): void {
    if (command === '001' && typeof params[1] === 'string') this.source = sourceFromWelcome(params[1]) ?? this.source;
    if (!this.registered && FATAL_BEFORE_WELCOME.has(command)) this.fail(registrationError(command, params[params.length - 1] ?? ''));
    if (/^[45]\d\d$/.test(command)) {
      this.channels?.onNumeric(command, params);
      this.confirmations?.numeric(command, params);
    }
    if (command === 'PONG') this.confirmations?.pong(params[params.length - 1]);
    // 907 ERR_SASLALREADY: a re-authentication found us signed in already (through NickServ).
    if (command === '907' && this.reauthenticating) this.reauthenticating = false;
  }

  private async autoJoin(rooms: readonly string[]): Promise<void> {
    const channels = this.channels;
    if (channels === undefined) return;
    const joins = rooms.map((room) => {
      const [name, ...rest] = room.split(' ');
      return channels.join(name!, rest.join(' ') || undefined).catch((error: unknown) => {
        this.ctx.notice(error instanceof Error ? error.message : String(error), undefined, true);
      });
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(joins), new Promise((r) => (timer = setTimeout(r, AUTOJOIN_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private settleConnect(): void {
    const pending = this.pendingConnect;
    this.pendingConnect = undefined;
    pending?.resolve();
  }

  /** A fatal problem during sign-in: remember why and close the link. */
  private fail(error: ConnectionError): void {
    this.failure ??= error;
    const client = this.client;
    if (client === undefined) return;
    if (client.connected) client.quit();
    else this.onClose();
  }

  private onClose(): void {
    const error =
      this.failure ??
      // The core's network layer already says what went wrong (proxy, certificate, timeout).
      (ConnectionError.is(this.socketError) ? this.socketError : undefined) ??
      (this.socketError === undefined
        ? ConnectionError.network('The connection to the server was closed')
        : ConnectionError.network(`Cannot reach the server: ${this.socketError.message}`, { cause: this.socketError, protocolDetail: (this.socketError as NodeJS.ErrnoException).code }));
    this.buddyWatch?.stop();
    this.channels?.reset(new IrcError('irc-not-connected', 'The connection closed'));
    this.confirmations?.closed();
    this.labels.closed();
    this.batches.reset();
    this.history?.closed();
    this.dcc?.closeAll();
    this.linkClosed = true;
    this.outgoing.detach(this);
    // Signed off, or refused for good: what waits to be sent will not go out on a later link.
    if (this.closing || error.fatal) this.outgoing.failAll(new MessageError('send-failed', `Not sent: ${this.closing ? 'the account went offline' : error.message}`));
    const pending = this.pendingConnect;
    this.pendingConnect = undefined;
    if (pending !== undefined) {
      pending.reject(error);
      return;
    }
    if (this.registered && !this.closing) {
      this.registered = false;
      this.ctx.connectionLost(error);
    }
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    const client = this.client;
    if (client === undefined) return;
    if (client.connected) client.quit(this.settings?.quitMessage.replace(/[\r\n\0]+/g, ' '));
    else client.connection.transport?.close(true);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.closed, new Promise((r) => (timer = setTimeout(r, 3_000)))]);
    clearTimeout(timer);
    client.connection.transport?.close(true);
  }

  private requireClient(): Client {
    const client = this.client;
    if (client === undefined || !client.connected || !this.registered) throw new IrcError('irc-not-connected', 'Not connected to the IRC server');
    return client;
  }

  /**
   * Resolves once the server has taken every line of the message — answered
   * each labeled line (labels.ts) or, without labeled-response, a PING
   * written after them (confirmations.ts); rejects when it refused one or
   * the link ended first. The echo's msgid becomes the message's protocol id.
   */
  async sendMessage(target: Target, message: OutgoingMessage): Promise<{ protocolId?: string } | void> {
    this.requireClient();
    const name = targetName(target);
    const lines = outgoingLines(name, message.text, message.flags, this.source || this.nick);
    // Flood control (flood.ts): say so when the message has to wait, so a long paste is not taken for a hang.
    const waitMs = this.outgoing.delayFor(lines.length);
    if (waitMs >= 4_000) {
      const queued = this.outgoing.queuedLines + lines.length;
      this.ctx.notice(`Sending (${queued} lines queued): about ${Math.ceil(waitMs / 1000)} s at the server's pace`, target);
    }
    const receipt = await this.outgoing.enqueue(name, lines);
    return receipt.msgid === undefined ? undefined : { protocolId: receipt.msgid };
  }

  /**
   * LineSink (flood.ts): a queued message starts on this link. Its answers
   * are expected from now on — a refusal or echo of its first line may come
   * while the last still waits — and counted once it is fully written.
   */
  start(target: string, lines: readonly string[]): SendTicket {
    const client = this.client;
    if (client === undefined || this.linkClosed) {
      const closed = new MessageError('send-failed', 'The connection closed before the IRC server confirmed the message: it may not have arrived');
      return { write: () => {}, finish: () => Promise.reject(closed) };
    }
    const labeled = client.network.cap.isEnabled('labeled-response');
    const labels = labeled ? lines.map(() => this.labels.next()) : [];
    const send = labeled
      ? this.labels.open(target, labels)
      : this.confirmations!.open(target, lines.length, client.network.cap.isEnabled('echo-message') ? lines.map(lineText) : []);
    // A link that dies mid-message rejects this; the queue reports that instead.
    send.promise.catch(() => {});
    return {
      write: (index) => {
        if (this.linkClosed) return;
        client.raw(labeled ? `@label=${labels[index]} ${lines[index]}` : lines[index]!);
      },
      finish: () => {
        send.written();
        return send.promise;
      },
    };
  }

  async setPresence(presence: Presence): Promise<void> {
    const client = this.requireClient();
    if (presence.status === 'offline') return;
    if (presence.status === 'available') {
      client.raw('AWAY');
      return;
    }
    // RFC 2812 section 4.1: AWAY with a text marks us away; a line break in the status message becomes a space.
    const text = (presence.message ?? presence.label ?? 'Away').replace(/[\r\n\0]+/g, ' ').trim() || 'Away';
    client.raw(`AWAY :${text}`);
  }

  async joinChat(room: string, options?: { password?: string }): Promise<void> {
    this.requireClient();
    await this.channels!.join(room, options?.password);
  }

  async leaveChat(room: string): Promise<void> {
    this.requireClient();
    this.channels!.part(room);
  }

  /** The IRCv3 typing tag in a TAGMSG to a channel we are in, when the server passes client tags (message-tags); else nothing. */
  async setChatTyping(room: string, state: TypingState): Promise<void> {
    const client = this.requireClient();
    if (!client.network.cap.isEnabled('message-tags') || !this.channels!.isJoined(room)) return;
    this.pace(typingLine(word(room, 'channel'), state));
  }

  async setTopic(room: string, topic: string): Promise<void> {
    this.requireClient();
    this.channels!.setTopic(room, topic);
  }

  async addBuddy(entry: RosterEntry): Promise<void> {
    word(entry.name, 'nick');
    this.buddyWatch?.add(entry);
  }

  async updateBuddy(entry: RosterEntry): Promise<void> {
    this.buddyWatch?.add(entry);
  }

  async removeBuddy(name: string): Promise<void> {
    this.buddyWatch?.remove(name);
  }

  async getBuddyInfo(name: string): Promise<Record<string, string>> {
    const info = await whois(this.requireClient(), name);
    this.ctx.buddies.info(name, info);
    return info;
  }

  /** DCC SEND to a nick (from our listener, or passive behind a proxy). */
  async sendFile(file: OutgoingFile): Promise<void> {
    this.requireClient();
    word(file.peer, 'nick');
    if (this.isChannel(file.peer)) throw new IrcError('irc-invalid-input', 'Files go to a nick, not to a channel');
    await this.requireDcc().send(file);
  }

  async acceptFile(id: string, target: FileTarget): Promise<void> {
    await this.requireDcc().accept(id, target);
  }

  async declineFile(id: string): Promise<void> {
    this.dcc?.decline(id);
  }

  async cancelFile(id: string): Promise<void> {
    this.dcc?.cancel(id);
  }

  private requireDcc(): DccTransfers {
    const dcc = this.dcc;
    if (dcc === undefined) throw new IrcError('irc-not-connected', 'Not connected to the IRC server');
    return dcc;
  }

  /** /nick */
  changeNick(nick: string): void {
    this.requireClient().changeNick(word(nick, 'nick'));
  }

  /** /quote: one raw line, exactly as typed. */
  quote(line: string): void {
    this.requireClient().raw(rawLine(line));
  }

  /**
   * /history: the page of `count` messages before the earliest one seen in
   * the conversation, from the server's chat history (chathistory.ts).
   * Resolves with how many came.
   */
  olderHistory(target: Target, count: number): Promise<number> {
    this.requireClient();
    const history = this.history;
    if (history === undefined) return Promise.reject(new IrcError('irc-not-connected', 'Not connected to the IRC server'));
    return history.older(targetName(target), count);
  }

  /** Since core API 1.10: a page of the server's chat history for the core's scrollback (chathistory.ts). */
  async fetchOlder(target: Target, query: { before: number | undefined; cursor: string | undefined; limit: number }): Promise<ArchivePage> {
    this.requireClient();
    const history = this.history;
    if (history === undefined) throw new IrcError('irc-not-connected', 'Not connected to the IRC server');
    return history.archive(targetName(target), query);
  }

  /** /topic without text: asks the server, whose answer updates the conversation. */
  requestTopic(room: string): void {
    this.requireClient().raw(`TOPIC ${word(room, 'channel')}`);
  }

  isChannel(name: string): boolean {
    return this.channels?.isChannel(name) ?? /^[#&+!]/.test(name);
  }
}
