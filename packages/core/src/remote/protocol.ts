/**
 * The remote API's one declared shape: JSON-RPC 2.0 over the owner's Unix
 * socket, framed like the Language Server Protocol (`Content-Length` header,
 * blank line, UTF-8 JSON body). Every request names a method of the
 * in-process API ("accounts.list", "conversations.sendIm") and passes its
 * arguments positionally (`params` is an array). The core's events arrive as
 * `event` notifications. See docs/remote-protocol.md.
 */
import type { ParleyEventMap } from '../events/events.js';

/** Major.minor: a client of another major version is refused at the handshake. */
export const REMOTE_PROTOCOL_VERSION = '1.7';

/** The largest message either side accepts (headers excluded). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * What each argument must be: checked before the core sees it, so a client
 * cannot hand the core a value its in-process callers never could.
 */
export type ParamKind = 'string' | 'object' | 'string?' | 'object?';

/** Methods a client may call, by namespace, exactly as the in-process API names them, with their arguments. */
export const REMOTE_API = {
  accounts: {
    list: [],
    get: ['string'],
    settings: ['string'],
    add: ['object'],
    update: ['string', 'object'],
    remove: ['string'],
    connect: ['string'],
    disconnect: ['string'],
    status: ['string'],
    missingRequired: ['string'],
    connectEnabled: [],
    /** Since 1.5. */
    setIcon: ['string', 'string?'],
  },
  conversations: {
    list: [],
    get: ['string'],
    openIm: ['string', 'string'],
    find: ['string', 'string', 'string'],
    send: ['string', 'string', 'object?'],
    sendIm: ['string', 'string', 'string'],
    sendToContact: ['string', 'string'],
    setTyping: ['string', 'string'],
    markRead: ['string'],
    close: ['string'],
    queued: ['string'],
  },
  chats: {
    join: ['string', 'string', 'object?'],
    leave: ['string'],
    setTopic: ['string', 'string'],
    saved: [],
    save: ['string', 'string', 'object?'],
    unsave: ['string', 'string'],
  },
  buddies: {
    groups: [],
    contacts: [],
    contact: ['string'],
    find: ['string', 'string'],
    add: ['string', 'string', 'object?'],
    remove: ['string', 'string'],
    move: ['string', 'string'],
    alias: ['string', 'string'],
    renameGroup: ['string', 'string'],
    merge: ['string', 'string'],
    split: ['string', 'string'],
    info: ['string', 'string'],
  },
  presence: {
    get: ['string?'],
    set: ['object', 'string?'],
  },
  plugins: {
    list: [],
    protocols: [],
    protocol: ['string'],
  },
  history: {
    search: ['object'],
    flush: [],
    /** Since 1.6: older messages from the server's archive. */
    older: ['string', 'object?'],
  },
  commands: {
    run: ['string', 'object?'],
  },
  /** Since 1.3: file transfers (`parley.transfers`); a path is the owner's, so give it absolute. */
  transfers: {
    list: [],
    get: ['string'],
    send: ['string', 'string', 'string', 'object?'],
    accept: ['string', 'object?'],
    decline: ['string'],
    cancel: ['string'],
    settled: ['string'],
    capability: ['string'],
    settings: [],
  },
  /** Since 1.1: what a UI draws, at one instant (CoreSnapshot). */
  state: {
    snapshot: [],
  },
  /** Since 1.4: the core's global settings (the proxy accounts set to "default" use). */
  settings: {
    proxy: [],
    setProxy: ['string', 'string?'],
  },
} as const satisfies Record<string, Record<string, readonly ParamKind[]>>;

/** The method names of each namespace. */
export const REMOTE_METHODS = Object.fromEntries(Object.entries(REMOTE_API).map(([ns, methods]) => [ns, Object.keys(methods)])) as unknown as {
  readonly [N in keyof typeof REMOTE_API]: ReadonlyArray<keyof (typeof REMOTE_API)[N] & string>;
};

/** Why `args` do not fit `kinds`, or undefined when they do. */
export function checkParams(kinds: readonly ParamKind[], args: readonly unknown[]): string | undefined {
  if (args.length > kinds.length) return `takes at most ${kinds.length} argument${kinds.length === 1 ? '' : 's'}`;
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i]!;
    const value = args[i];
    const optional = kind.endsWith('?');
    if (value === undefined) {
      if (optional) continue;
      return `argument ${i + 1} is missing`;
    }
    const base = optional ? kind.slice(0, -1) : kind;
    const ok = base === 'string' ? typeof value === 'string' : typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!ok) return `argument ${i + 1} must be ${base === 'string' ? 'a string' : 'an object'}`;
  }
  return undefined;
}

export type RemoteNamespace = keyof typeof REMOTE_API;

/** Methods that are about the connection or the owner, not the core's API. */
export const CONTROL_METHODS = {
  /** First request of every connection: `[{ protocolVersion, client? }]` → OwnerInfo. */
  hello: 'parley.hello',
  /** `[{ events?: string[] }]`: which events this client wants (default: none). */
  subscribe: 'parley.subscribe',
  /** `[{ ui: boolean }]`: this client answers the core's questions (certificates, authorizations). */
  attachUi: 'parley.attachUi',
  /** The owner's pid, uptime and accounts with their states. */
  status: 'parley.status',
  /** Stops the owner cleanly (accounts signed off, history flushed). */
  stop: 'parley.stop',
} as const;

/** Notifications the owner sends. */
export const NOTIFICATIONS = {
  /** `{ name, args }`: one of the core's events. */
  event: 'parley.event',
  /** `{ level, title, message?, accountId? }`: a notification for the person. */
  notify: 'parley.notify',
  /** `{ reason }`: the owner is stopping; the connection closes next. */
  stopping: 'parley.stopping',
} as const;

/** Request the owner sends to a client attached as UI: `[request, { purpose, accountId? }]` → the answer. */
export const UI_REQUEST_METHOD = 'parley.uiRequest';

/** Who owns a home, as the owner says in its handshake answer. */
export interface OwnerInfo {
  /** The remote protocol version it speaks (`REMOTE_PROTOCOL_VERSION` of its core). */
  protocolVersion: string;
  /** Its `@parley/core` package version. */
  coreVersion: string;
  /** Its process id. */
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  /** "daemon", "watch", "interactive", or what the owning program called itself. */
  kind: string;
}

/** What `RemoteParley.status()` answers: the owner, how long it has run and every account's state. */
export interface OwnerStatus extends OwnerInfo {
  /** Milliseconds since the owner started. */
  uptimeMs: number;
  /** Clients attached, this one included. */
  clients: number;
  /** Every account of the home, enabled or not. */
  accounts: Array<{
    /** The account's id. */
    id: string;
    /** Its protocol id ("xmpp"). */
    protocol: string;
    /** Its username on that protocol. */
    username: string;
    /** Whether it connects when the owner starts. */
    enabled: boolean;
    /** Its connection state (`ConnectionState`: "online", "offline", …). */
    state: string;
    /** Why its last attempt failed, when it did. */
    error?: {
      /** The error's code. */
      code: string;
      /** The text for the user. */
      message: string;
    };
  }>;
}

/** JSON-RPC error codes: the standard ones, and ours in the server range. */
export const RPC_ERRORS = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  /** A ParleyError: `data` carries its code and fields. */
  parleyError: -32000,
  /** A request before the handshake, or a handshake of another major version. */
  handshake: -32001,
  messageTooLarge: -32002,
} as const;

export const EVENT_NAMES = [
  'accountAdded',
  'accountUpdated',
  'accountRemoved',
  'accountStatusChanged',
  'accountConnected',
  'accountDisconnected',
  'accountInfoReceived',
  'conversationCreated',
  'conversationClosed',
  'conversationRead',
  'conversationTopicChanged',
  'conversationParticipantsChanged',
  'chatJoined',
  'chatLeft',
  'typingChanged',
  'chatTypingChanged',
  'messageWritten',
  'messageReceived',
  'messageSent',
  'messageQueued',
  'messageDelivered',
  'messageFailed',
  'buddyListChanged',
  'buddyListSynced',
  'buddyPresenceChanged',
  'buddyInfoReceived',
  'buddyIconChanged',
  'authorizationRequested',
  'presenceChanged',
  'pluginLoaded',
  'pluginFault',
  'pluginDisabled',
  'historyError',
  'transferAdded',
  'transferChanged',
  'transferProgress',
] as const satisfies ReadonlyArray<keyof ParleyEventMap>;

// A compile-time check that no event of the core is left out of the list above.
type MissingEvents = Exclude<keyof ParleyEventMap, (typeof EVENT_NAMES)[number]>;
const everyEventListed: MissingEvents extends never ? true : false = true;
void everyEventListed;

export function isMajorCompatible(theirs: unknown): boolean {
  if (typeof theirs !== 'string' || !/^\d+\.\d+$/.test(theirs)) return false;
  return theirs.split('.')[0] === REMOTE_PROTOCOL_VERSION.split('.')[0];
}
