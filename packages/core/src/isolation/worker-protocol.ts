/**
 * The one declared shape of the boundary between the core (main thread) and
 * a protocol plugin's worker. Everything crossing it is plain data: account
 * info, settings, messages, roster entries, and errors as WireError. Live
 * objects (the connection, its context, abort signals) stay on their side;
 * each side holds a stand-in that turns calls into these messages.
 *
 * Order matters and is kept: one port carries everything, so a context call
 * the plugin makes before `connect()` resolves reaches the core first.
 *
 * The worker sends what one turn of its work produced in one postMessage, as
 * a WorkerTape (worker-tape.ts) read in order: a burst of thousands of
 * incoming messages costs a few crossings instead of one each, and the
 * frequent calls cross without objects around them (a message names its
 * conversation by a number the worker told the core once). Big lists cross in a
 * cheap shape too: a roster as columns (PackedRoster), the plugin's state as
 * its JSON text.
 */
import type { AccountInfo } from '../accounts/account.js';
import type { IncomingMessage, OutgoingMessage, TypingState } from '../conversations/message.js';
import type { NotDeliveredReport, RosterEntry, ServerChat, Target } from '../plugins/contract.js';
import type { Presence } from '../presence/presence.js';
import type { Settings } from '../options/schema.js';
import type { LogLevel } from '../util/logger.js';
import type { WireError } from './wire-error.js';
import type { NetConfig } from '../net/net.js';
import type { IncomingFileOffer, TransferCompletion } from '../transfers/types.js';
import type { PackedRoster } from './packed-roster.js';

/** Version of this message shape; the worker states it in `ready` and the core refuses a mismatch. */
export const WORKER_PROTOCOL_VERSION = 10;

/** What the core hands a worker when it starts. */
export interface WorkerStart {
  /** file: URL of the plugin package's entry module. */
  module: string;
  protocol: string;
}

/** Everything a connection's context answers synchronously, pushed in when it opens. */
export interface ConnectionSnapshot {
  account: AccountInfo;
  settings: Settings;
  /** The account's plugin state (`getState`), by key. */
  state: Record<string, unknown>;
  buddies: PackedRoster;
  tlsCa: string[] | undefined;
  dnsServers: readonly string[] | undefined;
  /** The connection's network configuration, its proxy password included (it lives in the worker's memory only). */
  net: NetConfig;
}

/** Methods of a ProtocolConnection the core may call; the worker says which ones its connection has. */
export const CONNECTION_METHODS = [
  'connect',
  'disconnect',
  'sendMessage',
  'setPresence',
  'setTyping',
  'setChatTyping',
  'closeConversation',
  'joinChat',
  'leaveChat',
  'setTopic',
  'saveChat',
  'unsaveChat',
  'setIcon',
  'fetchOlder',
  'addBuddy',
  'removeBuddy',
  'updateBuddy',
  'getBuddyInfo',
  'sendFile',
  'acceptFile',
  'declineFile',
  'cancelFile',
] as const;
export type ConnectionMethod = (typeof CONNECTION_METHODS)[number];

/** Context calls that wait for the core's answer. */
export type ContextRequest =
  | { method: 'getSecret'; args: [key: string, ask?: { prompt: string }] }
  | { method: 'setSecret'; args: [key: string, value: string] }
  | { method: 'trustCertificate'; args: [cert: import('../plugins/contract.js').PeerCertificate] }
  | { method: 'ui.request'; args: [request: import('../ui/ui-ops.js').UiRequest, context: Omit<import('../ui/ui-ops.js').UiRequestContext, 'signal' | 'accountId'>] }
  | { method: 'buddies.authorizationRequest'; args: [from: string, message?: string] };

/** Context calls the core only hears (no answer). */
export type ContextNotice =
  /**
   * The value as JSON text (undefined: removed), or, with `isString`, a string value as it is: the
   * worker makes that copy anyway, and a string crosses cheaply. A string is not made JSON text: a
   * plugin's kept roster is one string of hundreds of kilobytes, which would be escaped here and
   * parsed again in the core, in the middle of a sign-in.
   */
  | { method: 'setState'; args: [key: string, value: string | undefined, isString: boolean] }
  | { method: 'progress'; args: [text: string, step?: number, steps?: number] }
  | { method: 'sessionDetail'; args: [text: string] }
  | { method: 'connectionLost'; args: [error: WireError] }
  | { method: 'receiveMessage'; args: [message: IncomingMessage] }
  | { method: 'messageDelivered'; args: [protocolId: string] }
  | { method: 'messageNotDelivered'; args: [protocolId: string, report: NotDeliveredReport] }
  | { method: 'typing'; args: [peer: string, state: TypingState] }
  /**
   * The worker now answers `buddies.list()` from these entries; `pushesSeen` is how many buddy
   * lists the core had pushed to this connection that the worker had received by then.
   */
  | { method: 'buddies.sync'; args: [entries: PackedRoster, pushesSeen: number] }
  /** Entries of a roster handed over in parts (`buddies.syncInParts`): the first part of a roster begins it in the core. */
  | { method: 'buddies.syncPart'; args: [entries: PackedRoster] }
  /** The end of a roster handed over in parts; when `complete`, the worker answers `buddies.list()` from every entry of its parts (`pushesSeen` as for `buddies.sync`). */
  | { method: 'buddies.syncEnd'; args: [complete: boolean, pushesSeen: number] }
  | { method: 'buddies.synced'; args: [] }
  | { method: 'buddies.upsert'; args: [entry: RosterEntry] }
  | { method: 'buddies.remove'; args: [name: string] }
  | { method: 'buddies.presence'; args: [name: string, presence: Presence] }
  | { method: 'buddies.info'; args: [name: string, info: Record<string, string>] }
  | { method: 'buddies.icon'; args: [name: string, data: Uint8Array | undefined] }
  | { method: 'chats.joined'; args: [room: string, info?: { topic?: string; nick?: string; title?: string; continues?: string }] }
  | { method: 'chats.left'; args: [room: string, reason?: string] }
  | { method: 'chats.participants'; args: [room: string, participants: unknown[]] }
  | { method: 'chats.participantJoined'; args: [room: string, participant: unknown, quiet?: boolean] }
  | { method: 'chats.participantLeft'; args: [room: string, nick: string, reason?: string, kind?: 'part' | 'quit' | 'kick'] }
  | { method: 'chats.participantRenamed'; args: [room: string, oldNick: string, newNick: string] }
  | { method: 'chats.topic'; args: [room: string, topic: string, setBy?: string] }
  | { method: 'chats.system'; args: [room: string, text: string, error?: boolean] }
  | { method: 'chats.typing'; args: [room: string, nick: string, state: TypingState] }
  | { method: 'chats.saved'; args: [chats: ServerChat[]] }
  | { method: 'notice'; args: [text: string, where?: Target, error?: boolean] }
  | { method: 'accountInfo'; args: [info: Record<string, string>] }
  | { method: 'transfers.offered'; args: [offer: IncomingFileOffer] }
  | { method: 'transfers.accepted'; args: [id: string] }
  | { method: 'transfers.progress'; args: [id: string, bytes: number] }
  | { method: 'transfers.completed'; args: [id: string, result?: TransferCompletion] }
  | { method: 'transfers.failed'; args: [id: string, error: WireError] }
  | { method: 'transfers.cancelled'; args: [id: string, reason?: string] };

/** Core → worker. */
export type ToWorker =
  | { t: 'open'; conn: number; snapshot: ConnectionSnapshot }
  | { t: 'call'; id: number; conn: number; method: ConnectionMethod; args: unknown[] }
  | { t: 'command'; id: number; conn: number; name: string; args: string; target?: Target }
  | { t: 'abort'; conn: number }
  | { t: 'close'; conn: number }
  | { t: 'buddies'; conn: number; buddies: PackedRoster }
  /** The account stopped for good (signed off, fatal error): what its connections carried over between attempts goes. */
  | { t: 'forget'; account: string }
  | { t: 'answer'; id: number; value?: unknown; error?: WireError }
  | { t: 'ping'; n: number }
  /** The worker's heap in use, in bytes, answered as a result; after a full collection first when `collect` and the process exposes one. */
  | { t: 'memory'; id: number; collect?: boolean };

/** Worker → core (each on a WorkerTape: context notices in their own records, the rest as they are). */
export type FromWorker =
  | { t: 'ready'; version: number; protocol: string }
  | { t: 'failed'; error: WireError }
  | { t: 'opened'; conn: number; methods: ConnectionMethod[] }
  | { t: 'result'; id: number; value?: unknown; error?: WireError }
  | ({ t: 'request'; id: number; conn: number } & ContextRequest)
  | { t: 'log'; conn: number; level: LogLevel; message: string; fields?: Record<string, unknown> }
  | { t: 'pong'; n: number };

/** Used by an outgoing call: the message, as the plugin takes it. */
export type SendArgs = [target: Target, message: OutgoingMessage];
