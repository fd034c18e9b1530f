import type { ConnectionError } from '../errors/ConnectionError.js';
import type { OptionSchema, Settings } from '../options/schema.js';
import type { Presence, StatusPrimitive } from '../presence/presence.js';
import type { IncomingMessage, OutgoingMessage, TypingState } from '../conversations/message.js';
import type { Logger } from '../util/logger.js';
import type { UiRequests } from '../ui/ui-ops.js';
import type { CommandSpec } from '../commands/registry.js';
import type { ParleyHooksTapOnly } from '../hooks/hooks.js';
import type { ParleyEventsListenOnly } from '../events/events.js';
import type { AccountInfo } from '../accounts/account.js';
import type { Net } from '../net/net.js';
import type { IconType } from '../buddies/icons.js';
import type { FileTarget, FileTransferCapability, OutgoingFile, TransferReporter } from '../transfers/types.js';

/** The version of the API between the core and its plugins. Plugins declare a semver range of it. */
export const CORE_API_VERSION = '1.15.0';

/**
 * What a protocol can do, declared once by its plugin. UIs read it to decide
 * which actions to offer (a join box, typing notices, an add-buddy form); the
 * core reads it to decide which optional `ProtocolConnection` methods to call.
 * A missing flag means "no".
 */
export interface ProtocolCapabilities {
  /** Group chats: the connection implements `joinChat` and `leaveChat`. */
  groupChat?: boolean;
  /** Typing notifications both ways: `setTyping`, and `context.typing` for the peer's. */
  typing?: boolean;
  /**
   * Since core API 1.13: typing notifications in group chats, both ways:
   * `setChatTyping`, and `context.chats.typing` for the participants'.
   */
  chatTyping?: boolean;
  /** The buddy list can be changed from here: `addBuddy`, `removeBuddy`, `updateBuddy`. */
  buddyManagement?: boolean;
  /** Messages can carry formatting (`OutgoingMessage.formatted`), not only plain text. */
  formattedText?: boolean;
  /** A message to an offline buddy is kept by the server and delivered later, so the UI need not warn. */
  offlineMessages?: boolean;
  /** `getBuddyInfo` answers with a buddy's profile. */
  buddyInfo?: boolean;
  /** Statuses the protocol can publish. */
  statuses?: readonly StatusPrimitive[];
  /**
   * Since core API 1.5: the protocol sends and/or receives files. The
   * connection then implements `sendFile` (send) and `acceptFile`,
   * `declineFile` (receive), and `cancelFile`, and reports through
   * `ConnectionContext.transfers`.
   */
  fileTransfer?: FileTransferCapability;
}

/** Where an outgoing message goes. */
export type Target =
  | {
      /** A one-to-one conversation. */
      kind: 'im';
      /** The person's protocol address (JID, nick, SIP address). */
      peer: string;
    }
  | {
      /** A group chat the account has joined. */
      kind: 'chat';
      /** The room's protocol name (MUC JID, #channel, conference URI). */
      room: string;
    };

/** A buddy-list entry as a protocol names it, in both directions (server roster in, user's changes out). */
export interface RosterEntry {
  /** The buddy's protocol address (JID, nick, SIP address): the key in the list. */
  name: string;
  /** The name the user gave the buddy, shown instead of `name`. */
  alias?: string;
  /** The groups the buddy is in; none or empty: the UI's default group. */
  groups?: readonly string[];
}

/** Since core API 1.10: a page of a conversation's archive on the server (`fetchOlder`). */
export interface ArchivePage {
  /** The page's messages, oldest first. */
  messages: ArchivedMessage[];
  /** Where the next older page starts; undefined when there is none. */
  cursor?: string;
  /** Nothing older is left. */
  complete: boolean;
}

/** Since core API 1.10: one message of an `ArchivePage`, as the server archived it. */
export interface ArchivedMessage {
  /** `outgoing` for what this account sent (from another device too), `incoming` for the rest. */
  direction: 'incoming' | 'outgoing';
  /** Who wrote it: the peer's address, the nick in a room, or the account's own name. */
  sender: string;
  /** The message body as plain text. */
  text: string;
  /** Epoch ms, as the server stored it. */
  timestamp: number;
  /** The protocol's id for the message: the core drops an archived message it already holds under this id. */
  protocolId?: string;
}

/** Since core API 1.6: a group chat the account's server keeps for it (XMPP bookmarks). */
export interface ServerChat {
  /** The room's protocol name, as `chats.join` takes it. */
  room: string;
  /** The name the user gave it. */
  alias?: string;
  /** Joined at sign-in. */
  autojoin: boolean;
}

/** Someone in a group chat, as the plugin reports them in `context.chats`. */
export interface ChatParticipant {
  /** The name in the room; unique within it, the key for renames and leaves. */
  nick: string;
  /** Protocol roles collapse to these for display; the label keeps the protocol's word. */
  role?: 'owner' | 'admin' | 'moderator' | 'voice' | 'member' | 'visitor';
  /** The protocol's own word for the role ("operator", "organizer"), for display. */
  roleLabel?: string;
  /** The real identity behind a nick, where the room reveals it. */
  realName?: string;
  /**
   * Since core API 1.7: the services account the participant is signed in
   * to, where the network says (IRC account-notify, extended-join, WHOX).
   */
  account?: string;
}

/** A peer's certificate as a plugin saw it, for the user's trust decision. */
export interface PeerCertificate {
  /** The host name the plugin connected to (what the certificate was checked against). */
  host: string;
  /** The certificate's subject, as one readable line. */
  subject: string;
  /** Who issued it, as one readable line. */
  issuer: string;
  /** Start of validity, as the certificate states it (Node's `valid_from` text). */
  validFrom: string;
  /** End of validity, as the certificate states it (Node's `valid_to` text). */
  validTo: string;
  /** SHA-256 of the DER encoding, colon-separated hex. */
  fingerprint256: string;
  /** Why the normal check failed (Node's code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  errorCode: string;
}

/**
 * A plugin's only door into the core, one per account connection. Calls are
 * safe to make at any time; those made after the connection was closed are
 * ignored.
 */
export interface ConnectionContext {
  /** The account this connection signs in (id, protocol, username, display name). */
  readonly account: AccountInfo;
  /** Validated settings with defaults; secrets are not in here. */
  readonly settings: Settings;
  /** A logger tagged with the plugin and account; secrets the core knows are redacted from it. */
  readonly log: Logger;
  /** Aborted when the core no longer wants this connection (user went offline, account removed). */
  readonly signal: AbortSignal;

  /** A secret option's value (e.g. "password"), from the secret store; asks the UI when absent and `ask` is set. */
  getSecret(key: string, ask?: { prompt: string }): Promise<string | undefined>;
  /** Stores a secret option's value encrypted in the secret store (e.g. a token the server issued at sign-in). */
  setSecret(key: string, value: string): Promise<void>;
  /** Small persisted state for this account (last seen ids, trusted certificates). */
  getState<T>(key: string): T | undefined;
  /** Stores `value` (small, JSON-serializable) under `key` for this account, kept across restarts. Not for secrets. */
  setState(key: string, value: unknown): void;
  /**
   * In-memory state carried from one connection attempt of this account to
   * the next, e.g. a stream-management session to resume after a drop.
   * Cleared when the user signs off or the account is removed.
   */
  readonly carryOver: {
    /** The value an earlier attempt left under `key`, if any. */
    get<T>(key: string): T | undefined;
    /** Leaves `value` (any object; never written to disk) for the next attempt. */
    set(key: string, value: unknown): void;
    /** Forgets `key`, e.g. once a resumed session is refused. */
    delete(key: string): void;
  };
  /**
   * The network: every socket, HTTPS agent and SRV lookup of the plugin goes
   * through here, so the proxy, certificate checks and timeouts are the core's.
   */
  readonly net: Net;
  /** A core setting shared by every plugin (e.g. "dnsServers"). */
  coreSetting(key: 'dnsServers'): readonly string[] | undefined;

  /** Connection progress shown to the user ("Looking up server", "Authenticating"). */
  progress(text: string, step?: number, steps?: number): void;
  /**
   * How this sign-in connected ("Kerberos, TLS"), said before connect() resolves; the account's
   * online status carries it as `detail`. Optional: contexts made outside the core may lack it.
   */
  sessionDetail?(text: string): void;
  /** The connection dropped after it was online; the core decides whether and when to reconnect. */
  connectionLost(error: ConnectionError): void;

  /**
   * The normal certificate check failed: asks the user (showing the
   * fingerprint) unless the decision for this certificate is remembered.
   * Resolves true when the user trusts it.
   */
  trustCertificate(cert: PeerCertificate): Promise<boolean>;
  /**
   * Certificate authorities to verify servers against, for `tls.connect({ ca })`:
   * undefined means Node's defaults; set when the user (or a test) added CAs.
   */
  tlsCa(): string[] | undefined;
  /** Asks the user something (a confirmation, a text, a choice) through whatever UI is attached; see `UiRequest`. */
  readonly ui: Pick<UiRequests, 'request'>;

  /** An IM or chat message arrived (or one of ours came back, e.g. from another client or history); the core files it in its conversation. */
  receiveMessage(message: IncomingMessage): void;
  /** A message we sent reached the peer (receipts). */
  messageDelivered(protocolId: string): void;
  /**
   * Since core API 1.12: the server took a message we sent (its `protocolId`,
   * as `sendMessage` resolved) and reported later that it did not reach
   * `recipients` (a group chat's participants; empty: nobody got it), with
   * why. The core marks the message, emits `messageFailed` with code
   * `not-delivered` and writes a line naming them. Absent on an older core.
   */
  messageNotDelivered?(protocolId: string, report: NotDeliveredReport): void;
  /** The peer of a one-to-one conversation started or stopped typing. */
  typing(peer: string, state: TypingState): void;

  /** Reports about the account's buddy list; the core keeps the list and emits the events. */
  buddies: {
    /**
     * This account's buddies as the core keeps them: for protocols with no
     * server-side list (IRC), the list to watch, including buddies the user
     * added while the account was offline.
     */
    list(): RosterEntry[];
    /** Replaces this account's server-side list with `entries` (a full roster fetch). */
    sync(entries: readonly RosterEntry[]): void;
    /**
     * Since core API 1.15: a full roster fetch handed over as it arrives, one
     * entry at a time, for lists of thousands: each entry `add`ed is in the
     * list at once (as with `upsert`, without an event each), and `end()`
     * makes this account's list exactly the entries added, as one `sync`
     * with all of them would, and announces the change. A roster that did
     * not arrive whole is ended with `end(false)`: what was added stays and
     * nothing is removed. Absent on an older core: gather the entries and
     * `sync` them. In a worker thread, the entries added in one turn cross
     * to the core together.
     */
    syncInParts?(): {
      /** Puts one entry of the roster in the list now (no event for it). */
      add(entry: RosterEntry): void;
      /** The roster is over: `complete` (the default) makes the account's list exactly the entries added, as one `sync`; false keeps the others (the roster did not arrive whole). Announces the change. */
      end(complete?: boolean): void;
    };
    /**
     * Since core API 1.3: the server's list is applied, once per sign-in, after
     * the `sync` (or the pushes) that carried it; for protocols with no
     * server-side list, at sign-in. The core emits `buddyListSynced`, so a UI
     * (or a test) knows the list it shows is the server's, and that a buddy
     * missing from it is gone.
     */
    synced(): void;
    /** One buddy was added on the server or changed (a roster push). */
    upsert(entry: RosterEntry): void;
    /** One buddy was removed from the server's list. */
    remove(name: string): void;
    /** A buddy's presence changed; `name` need not be in the list (the core ignores strangers). */
    presence(name: string, presence: Presence): void;
    /** A buddy's profile (field name → text), e.g. the answer to a WHOIS or a vCard. */
    info(name: string, info: Record<string, string>): void;
    /**
     * Since core API 1.8: the buddy's picture, as bytes (undefined: it has
     * none). The core checks them (at most 512 KiB, a PNG, JPEG, GIF or WebP
     * image by its own signature, whatever type was declared), refusing
     * anything else with a log line, and caches them by content; the plugin
     * checks the protocol's own hash first.
     */
    icon(name: string, data: Uint8Array | undefined): void;
    /**
     * Someone asks to see our presence; resolves with the user's answer:
     * true to allow, false to deny, undefined to answer later (send nothing:
     * the server keeps the request and puts it again at the next sign-in).
     */
    authorizationRequest(from: string, message?: string): Promise<boolean | undefined>;
  };

  /** Reports about group chats; `room` is the protocol's room address throughout. */
  chats: {
    /**
     * Since core API 1.9: `continues` names the peer of a one-to-one conversation this group
     * chat continues (a third person was added and the protocol moved the conversation into a
     * new room): a chat the core did not have yet starts with that conversation's recent
     * messages as its scrollback.
     */
    joined(room: string, info?: { topic?: string; nick?: string; title?: string; continues?: string }): void;
    /** We are out of the room (left, kicked, the room closed); `reason` is shown to the user. */
    left(room: string, reason?: string): void;
    /** The room's full participant list, replacing what the core had (e.g. after joining). */
    participants(room: string, participants: readonly ChatParticipant[]): void;
    /** Someone joined; `quiet`: update the list without a "… joined" line in the conversation. */
    participantJoined(room: string, participant: ChatParticipant, quiet?: boolean): void;
    /** Someone left; `kind` tells how, for the line the UI shows (default 'part'). */
    participantLeft(room: string, nick: string, reason?: string, kind?: 'part' | 'quit' | 'kick'): void;
    /** Someone changed nick; the core moves their entry and role. */
    participantRenamed(room: string, oldNick: string, newNick: string): void;
    /** The room's topic is (now) `topic`; `setBy` when the server says who set it. */
    topic(room: string, topic: string, setBy?: string): void;
    /** A line about the room that is not a message (mode change, error). */
    system(room: string, text: string, error?: boolean): void;
    /**
     * Since core API 1.13 (capability `chatTyping`): participant `nick` (as in
     * their messages' `sender`) started, paused or stopped typing in `room`.
     * The core clears it when their message arrives, when they leave, and
     * when a "typing" or "paused" is not repeated for a while.
     */
    typing(room: string, nick: string, state: TypingState): void;
    /**
     * Since core API 1.6: the group chats the server keeps for this account
     * replace its saved chats (a chat saved while the account was offline
     * stays, to be sent to the server at the next sign-in). Said before
     * `connect()` resolves, the autojoin ones are joined at that sign-in; said
     * later (another client changed them), the list changes live.
     */
    saved(chats: readonly ServerChat[]): void;
  };

  /** A system line in an IM conversation or the account's status window. */
  notice(text: string, where?: Target, error?: boolean): void;
  /** The account's own info (profile, display name) as the server reports it. */
  accountInfo(info: Record<string, string>): void;

  /**
   * Since core API 1.5: file transfers, incoming offers and the progress of
   * every transfer (see `FileTransferCapability`). Absent on a core before 1.5.
   */
  readonly transfers?: TransferReporter;
}

/** What a server reported about a message it took but could not hand on (`PluginContext.messageNotDelivered`). */
export interface NotDeliveredReport {
  /** Who it did not reach, as the conversation names them (chat participants); empty when it reached nobody. */
  recipients: readonly string[];
  /** Why, for people (the server's words where it gave some). */
  reason: string;
}

/** One account's connection, created by a protocol plugin's factory. */
export interface ProtocolConnection {
  /** Resolves once signed in; rejects with a ConnectionError. */
  connect(): Promise<void>;
  /** Signs off politely; must settle within a few seconds even if the server does not answer. */
  disconnect(): Promise<void>;
  /**
   * Sends a message. Resolves once the server took it, with the protocol's id
   * for it when there is one (receipts then match `messageDelivered`); rejects
   * with a ParleyError when it was not sent.
   */
  sendMessage(
    target: Target,
    message: OutgoingMessage,
  ): Promise<{
    /** The server's or the protocol's id for the sent message. */
    protocolId?: string;
  } | void>;
  /** Publishes the user's presence: on each change while online, and after sign-in when it is not plain `available`. */
  setPresence?(presence: Presence): Promise<void>;
  /** Capability `typing`: tells `peer` the user is (or stopped) typing. */
  setTyping?(peer: string, state: TypingState): Promise<void>;
  /** Since core API 1.13, capability `chatTyping`: tells the participants of `room` the user is (or stopped) typing. */
  setChatTyping?(room: string, state: TypingState): Promise<void>;
  /** The user closed the conversation: end a protocol session tied to it (an OCS dialog). */
  closeConversation?(target: Target): Promise<void>;
  /**
   * Joins a group chat; report success with `context.chats.joined`. After a
   * reconnect the core calls this again for every chat that was joined, with
   * the options of the original join: a plugin need not remember them.
   */
  joinChat?(room: string, options?: { password?: string; nick?: string }): Promise<void>;
  /** Capability `groupChat`: leaves the room; report it with `context.chats.left`. */
  leaveChat?(room: string): Promise<void>;
  /** Asks the server to change the room's topic; the new one comes back through `context.chats.topic`. */
  setTopic?(room: string, topic: string): Promise<void>;
  /** Since core API 1.6: the user saved a chat (or changed it); the server keeps it for every client of the account. */
  saveChat?(chat: ServerChat): Promise<void>;
  /** Since core API 1.6: the user removed a saved chat. */
  unsaveChat?(room: string): Promise<void>;
  /**
   * Since core API 1.10: one page of the server's archive of a conversation,
   * older than `before` (epoch ms) on the first call, then older than
   * `cursor` (what the previous page returned); oldest first.
   */
  fetchOlder?(target: Target, query: { before: number | undefined; cursor: string | undefined; limit: number }): Promise<ArchivePage>;
  /** Since core API 1.8: publishes the account's own picture (checked by the core already), or none. */
  setIcon?(icon: { data: Uint8Array; type: IconType; hash: string } | undefined): Promise<void>;
  /** Capability `buddyManagement`: adds a buddy on the server (and asks to see its presence, where the protocol does). */
  addBuddy?(entry: RosterEntry): Promise<void>;
  /** Capability `buddyManagement`: removes a buddy from the server's list. */
  removeBuddy?(name: string): Promise<void>;
  /** Capability `buddyManagement`: changes a buddy's alias or groups on the server. */
  updateBuddy?(entry: RosterEntry): Promise<void>;
  /** Capability `buddyInfo`: a buddy's profile, field name → text. */
  getBuddyInfo?(name: string): Promise<Record<string, string>>;

  /**
   * Since core API 1.5 (capability `fileTransfer.send`): offers `file` to its
   * peer. Resolves once the offer is made (or the upload has begun); what
   * follows is reported through `context.transfers` under `file.id`:
   * `accepted`, `progress`, then `completed`, `failed` or `cancelled`.
   * Rejects (a TransferError) when the offer cannot be made at all.
   */
  sendFile?(file: OutgoingFile): Promise<void>;
  /**
   * Capability `fileTransfer.receive`: the user accepted the offer `id`.
   * Write the bytes to `target.path` from `target.offset`, never more than
   * `target.maxBytes` in all (`openTransferSink` does both), and report
   * `progress`, then `completed` or `failed`. Resolves once the transfer has begun.
   */
  acceptFile?(id: string, target: FileTarget): Promise<void>;
  /** The user declined the offer `id`: tell the peer if the protocol can. */
  declineFile?(id: string): Promise<void>;
  /**
   * The user cancelled transfer `id` (either direction, any state): stop
   * moving bytes, tell the peer if the protocol can, and close the file. The
   * core removes an incoming file's temporary file once this settles.
   */
  cancelFile?(id: string): Promise<void>;
}

/**
 * A protocol plugin: what the core needs to offer accounts of one protocol.
 * Its module's default export (or `createXxxPlugin()`); build it with
 * `defineProtocolPlugin`. The core calls `createConnection` once per sign-in.
 */
export interface ProtocolPlugin {
  /** Tells protocol plugins from feature plugins. */
  kind: 'protocol';
  /** Stable id, e.g. "xmpp"; accounts refer to it. */
  id: string;
  /** The protocol's name for people ("XMPP", "IRC"). */
  name: string;
  /** The account settings the protocol takes; the core validates settings against it and UIs draw forms from it. */
  options: OptionSchema;
  /** What the protocol can do. */
  capabilities: ProtocolCapabilities;
  /** How the username is named in forms ("JID", "Sign-in address"). */
  usernameLabel?: string;
  /** Checks a username; returns a message when it is invalid. */
  validateUsername?(username: string): string | undefined;
  /** Commands this protocol adds; they run against the conversation's account. */
  commands?: readonly ProtocolCommand[];
  /** Makes the connection object for one sign-in of an account; the core then calls its `connect()`. */
  createConnection(context: ConnectionContext): ProtocolConnection;
}

/** A slash command a protocol adds (`/whois`, `/conference`), run with the conversation's connection. */
export interface ProtocolCommand extends CommandSpec {
  /** Runs the command with the text after its name; a string it returns is shown to the user. */
  run(args: string, invocation: { connection: ProtocolConnection; target?: Target; context: ConnectionContext }): Promise<string | void> | string | void;
}

/** What a feature plugin receives: it can tap hooks and listen, not call into internals. */
export interface PluginApi {
  /** The plugin's name, as it was loaded. */
  readonly name: string;
  /** The core's hooks, to change or stop messages and actions on their way (see `HOOK_NAMES`). */
  readonly hooks: ParleyHooksTapOnly;
  /** The core's events, to react to what happened (see `ParleyEventMap`). */
  readonly events: ParleyEventsListenOnly;
  /** A logger tagged with the plugin's name. */
  readonly log: Logger;
  /** Adds a slash command; it is removed when the plugin unloads. A returned string is shown to the user. */
  registerCommand(command: CommandSpec & { run(args: string, invocation: { conversationId?: string }): Promise<string | void> | string | void }): void;
  /** Sends a message in a conversation (e.g. an automatic answer). */
  send(conversationId: string, text: string, flags?: { autoReply?: boolean }): Promise<void>;
  /** The user's current global presence. */
  presence(): Presence;
  /** The plugin's own settings from the config file. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** A plugin that adds behaviour to every account (auto-reply, logging) through hooks, events and commands. Build it with `defineFeaturePlugin`. */
export interface FeaturePlugin {
  /** Tells feature plugins from protocol plugins. */
  kind: 'feature';
  /** Unique among loaded plugins; its settings are the config file's `plugins.<name>`. */
  name: string;
  /** Called once when loaded; the returned function is called when the plugin is unloaded. */
  apply(api: PluginApi): void | (() => void);
}

/** Any plugin the core can load: a protocol or a feature. */
export type ParleyPlugin = ProtocolPlugin | FeaturePlugin;

/** Identity for plugin authors: gives a plugin object its type without a cast. */
export function defineProtocolPlugin(plugin: Omit<ProtocolPlugin, 'kind'>): ProtocolPlugin {
  return { kind: 'protocol', ...plugin };
}
/** Identity for plugin authors: gives a feature plugin object its type (and `kind`) without a cast. */
export function defineFeaturePlugin(plugin: Omit<FeaturePlugin, 'kind'>): FeaturePlugin {
  return { kind: 'feature', ...plugin };
}
