/**
 * The part of irc-framework 4.14 (CommonJS, untyped) this plugin uses.
 * Shapes follow the library's own event payloads (src/commands/handlers).
 */
declare module 'irc-framework' {
  import type { EventEmitter } from 'node:events';

  /** What irc-framework asks of a transport class (see its src/transports/net.js). */
  export interface IrcTransport extends EventEmitter {
    connect(): void;
    writeLine(line: string, callback?: () => void): void;
    isConnected(): boolean;
    close(force?: boolean): void;
    disposeSocket(): void;
    setEncoding(encoding: string): boolean;
  }
  export type IrcTransportClass = new (options: ClientOptions) => IrcTransport;

  export interface ClientOptions {
    host?: string;
    port?: number;
    tls?: boolean;
    nick?: string;
    username?: string;
    gecos?: string;
    password?: string;
    /** SASL credentials; an object without `account` turns SASL off even when `password` is set. */
    account?: { account?: string; password?: string };
    sasl_mechanism?: string;
    sasl_disconnect_on_fail?: boolean;
    encoding?: string;
    /** CTCP VERSION reply; empty or null leaves VERSION to 'ctcp request' listeners. */
    version?: string | null;
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
    enable_echomessage?: boolean;
    /** Ask for chghost / setname (https://ircv3.net/specs/extensions/chghost, .../setname). */
    enable_chghost?: boolean;
    enable_setname?: boolean;
    transport?: IrcTransportClass;
    [extra: string]: unknown;
  }

  export interface MessageEvent {
    from_server: boolean;
    nick: string;
    ident?: string;
    hostname?: string;
    target: string;
    message: string;
    time?: number;
    tags?: Record<string, string>;
  }
  export interface CtcpEvent {
    nick: string;
    target: string;
    type: string | null;
    message: string;
  }
  export interface JoinEvent { nick: string; ident?: string; hostname?: string; channel: string; gecos?: string; account?: string | false }
  export interface PartEvent { nick: string; channel: string; message: string }
  export interface KickEvent { kicked: string; nick: string; channel: string; message: string }
  export interface QuitEvent { nick: string; message: string }
  export interface NickEvent { nick: string; new_nick: string }
  export interface TopicEvent { channel: string; topic: string; nick?: string }
  export interface TopicSetByEvent { channel: string; nick: string; when?: number }
  export interface UserlistEvent { channel: string; users: Array<{ nick: string; ident?: string; hostname?: string; modes: string[] }> }
  export interface ModeEvent { target: string; nick: string; modes: Array<{ mode: string; param?: string | null }> }
  export interface NickInUseEvent { nick: string; reason: string }
  export interface IrcErrorEvent { error: string; reason?: string; channel?: string; nick?: string; [k: string]: unknown }
  export interface SaslFailedEvent { reason: string; message?: string }
  export interface UsersEvent { nicks: string[] }
  export interface AwayEvent { self?: boolean; nick: string; message?: string }
  export interface RegisteredEvent { nick: string }
  export interface WhoisEvent {
    nick: string;
    error?: string;
    ident?: string;
    hostname?: string;
    real_name?: string;
    server?: string;
    server_info?: string;
    channels?: string;
    idle?: number | string;
    logon?: number | string;
    away?: string;
    account?: string;
    operator?: string;
    secure?: boolean;
    [k: string]: unknown;
  }
  export interface UnknownCommand { command: string; params: string[]; nick?: string; prefix?: string }
  export interface RawEvent { line: string; from_server: boolean }

  /** A TAGMSG (IRCv3 message-tags): tags and no text. */
  export interface TagmsgEvent {
    from_server: boolean;
    nick: string;
    target: string;
    tags: Record<string, string | undefined>;
  }

  export interface ClientEvents {
    registered: [RegisteredEvent];
    connected: [RegisteredEvent];
    close: [hadError: boolean];
    'socket close': [error?: Error | false];
    privmsg: [MessageEvent];
    notice: [MessageEvent];
    action: [MessageEvent];
    tagmsg: [TagmsgEvent];
    'ctcp request': [CtcpEvent];
    'ctcp response': [CtcpEvent];
    join: [JoinEvent];
    part: [PartEvent];
    kick: [KickEvent];
    quit: [QuitEvent];
    nick: [NickEvent];
    topic: [TopicEvent];
    topicsetby: [TopicSetByEvent];
    userlist: [UserlistEvent];
    mode: [ModeEvent];
    'nick in use': [NickInUseEvent];
    'nick invalid': [NickInUseEvent];
    'irc error': [IrcErrorEvent];
    'sasl failed': [SaslFailedEvent];
    loggedin: [{ nick: string; account: string }];
    loggedout: [{ nick: string }];
    'cap ack': [{ command: string; capabilities: Record<string, string> }];
    'users online': [UsersEvent];
    'users offline': [UsersEvent];
    away: [AwayEvent];
    back: [AwayEvent];
    whois: [WhoisEvent];
    'unknown command': [UnknownCommand];
    'server options': [{ options: Record<string, unknown>; cap: string[] }];
    raw: [RawEvent];
    debug: [string];
  }

  export class Client {
    constructor(options?: ClientOptions);
    options: ClientOptions;
    user: { nick: string; username: string; gecos: string; host: string; away: boolean };
    network: {
      name: string;
      options: Record<string, unknown>;
      cap: { enabled: string[]; available: Map<string, string>; isEnabled(cap: string): boolean };
      supports(feature: string): unknown;
      /** "@#chan" (STATUSMSG) → { target: '#chan', target_group: '@' }; null for a plain target. */
      extractTargetGroup(target: string): { target: string; target_group: string } | null;
    };
    connection: { connected: boolean; registered: number | false; transport: IrcTransport | null };
    readonly connected: boolean;
    on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
    once<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
    off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this;
    removeAllListeners(event?: string): this;
    connect(options?: ClientOptions): void;
    quit(message?: string): void;
    /** Sends one line; arguments are joined with spaces, the last one gets ':' when needed. */
    raw(...args: Array<string | number>): void;
    changeNick(nick: string): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    setTopic(channel: string, topic: string): void;
    whois(nick: string, callback?: (event: WhoisEvent) => void): void;
    caseCompare(a: string, b: string): boolean;
    caseLower(value: string): string;
    addMonitor(target: string): void;
    removeMonitor(target: string): void;
    requestCap(cap: string | string[]): void;
    /** Adds middleware: `fn(client, rawMiddleware, parsedMiddleware)`. */
    use(fn: (client: Client, rawMiddleware: { use(fn: (...args: any[]) => void): void }, parsedMiddleware: unknown) => void): this;
  }

  const irc: { Client: typeof Client };
  export default irc;
}
