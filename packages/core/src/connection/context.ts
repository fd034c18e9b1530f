import type { AccountRecord } from '../accounts/account.js';
import { accountInfo } from '../accounts/account.js';
import type { AccountManager } from '../accounts/account-manager.js';
import { DEFAULT_GROUP, type BuddyList } from '../buddies/buddy-list.js';
import { IconError, type BuddyIcon } from '../buddies/icons.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import type { IncomingMessage, TypingState } from '../conversations/message.js';
import { ConnectionError } from '../errors/ConnectionError.js';
import { SecretStoreError } from '../errors/ParleyError.js';
import type { ParleyEvents } from '../events/events.js';
import type { ParleyHooks } from '../hooks/hooks.js';
import type { ChatParticipant, ConnectionContext, NotDeliveredReport, PeerCertificate, RosterEntry, ServerChat, Target } from '../plugins/contract.js';
import { isStatusPrimitive, type Presence } from '../presence/presence.js';
import type { StateStore } from '../storage/state-store.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { Logger } from '../util/logger.js';
import type { AccountRuntime } from './account-runtime.js';
import { createNet, type NetConfig } from '../net/net.js';
import type { TransferManager } from '../transfers/transfer-manager.js';


/** The answers to an authorization request, as a choice the UI shows. */
const AUTHORIZATION_CHOICES = [
  { value: 'allow', label: 'Allow: they see when you are online' },
  { value: 'deny', label: 'Deny' },
  { value: 'later', label: 'Later: ask again at the next sign-in' },
] as const;

export interface ContextDeps {
  record: AccountRecord;
  runtime: AccountRuntime;
  generation: number;
  signal: AbortSignal;
  accounts: AccountManager;
  conversations: ConversationManager;
  buddies: BuddyList;
  hooks: ParleyHooks;
  events: ParleyEvents;
  state: StateStore;
  ui: UiOps;
  log: Logger;
  tlsCa: string[] | undefined;
  /** Survives reconnect attempts of this account; the owner clears it on sign-off. */
  carryOver: Map<string, unknown>;
  dnsServers: readonly string[] | undefined;
  net: NetConfig;
  /** The proxy password from the secret store (the account's, or the global one for the global proxy). */
  proxyPassword(): Promise<string | undefined>;
  transfers: TransferManager;
  /** Bad input from the plugin at the context boundary. */
  reportFault(where: string, error: unknown): void;
}

/** Longest message text the core accepts from a plugin; more is cut, not rejected, so nothing vanishes. */
const MAX_TEXT = 1 << 20;
const TRUSTED_CERTIFICATES = 'trustedCertificates';

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 3072;
}

function hasName(entry: RosterEntry | undefined): boolean {
  return isName(entry?.name);
}

/** Checks what a plugin hands over; returns a clean copy or a reason to drop it. */
function cleanIncoming(message: IncomingMessage): IncomingMessage | string {
  if (typeof message !== 'object' || message === null) return 'not an object';
  const c = message.conversation as { kind?: unknown; peer?: unknown; room?: unknown } | undefined;
  if (c === undefined || (c.kind === 'im' ? !isName(c.peer) : c.kind === 'chat' ? !isName(c.room) : true)) return 'no valid conversation';
  if (typeof message.sender !== 'string') return 'no sender';
  if (typeof message.text !== 'string') return 'no text';
  // Copied field by field, not spread: the copy keeps a plugin that changes its object after the call
  // from changing the queued message, and a spread of an object of unknown shape is several times slower.
  const clean: IncomingMessage = {
    conversation: message.conversation,
    sender: message.sender,
    text: message.text.length > MAX_TEXT ? `${message.text.slice(0, MAX_TEXT)}…` : message.text,
  };
  if (message.senderAlias !== undefined) clean.senderAlias = message.senderAlias;
  if (message.formatted !== undefined) clean.formatted = message.formatted;
  const timestamp = message.timestamp;
  if (timestamp !== undefined && Number.isFinite(timestamp) && timestamp > 0) clean.timestamp = timestamp;
  if (message.protocolId !== undefined) clean.protocolId = message.protocolId;
  if (message.flags !== undefined) clean.flags = message.flags;
  if (message.fromSelf !== undefined) clean.fromSelf = message.fromSelf;
  return clean;
}

function cleanPresence(presence: Presence): Presence | undefined {
  if (typeof presence !== 'object' || presence === null || !isStatusPrimitive(presence.status)) return undefined;
  const out: Presence = { status: presence.status };
  if (typeof presence.message === 'string') out.message = presence.message.slice(0, 4096);
  if (typeof presence.label === 'string') out.label = presence.label.slice(0, 256);
  if (typeof presence.idleSince === 'number' && Number.isFinite(presence.idleSince)) out.idleSince = presence.idleSince;
  return out;
}

/**
 * The object a protocol plugin talks to the core through, for one
 * connection attempt. Once the attempt is superseded (reconnect, sign-off),
 * everything it reports is ignored.
 */
export function buildConnectionContext(deps: ContextDeps): ConnectionContext {
  const { record, runtime, generation, conversations, buddies, events, hooks, state, ui, log } = deps;
  const accountId = record.id;
  const live = () => runtime.isCurrent(generation);
  // Messages of one account pass the hooks in the order they arrived.
  // They are queued and handled on a microtask after the plugin's call returns (never inside it), a
  // whole burst on one microtask; only a hook tap that answers later makes the queue wait.
  let inbound: IncomingMessage[] = [];
  let draining = false;
  const failed = (error: unknown) => log.error('an incoming message could not be processed', { error: error instanceof Error ? error.message : String(error) });
  const drain = async (): Promise<void> => {
    // Taken a batch at a time: shifting a long array one by one is quadratic.
    while (inbound.length > 0) {
      const batch = inbound;
      inbound = [];
      for (const next of batch) {
        try {
          const pending = conversations.receive(accountId, next);
          if (pending !== undefined) await pending;
        } catch (error) {
          failed(error);
        }
      }
    }
    draining = false;
  };
  const guarded = <A extends unknown[]>(where: string, fn: (...args: A) => void) => (...args: A): void => {
    if (!live()) return;
    try {
      fn(...args);
    } catch (error) {
      deps.reportFault(where, error);
    }
  };

  const context: ConnectionContext = {
    account: accountInfo(record),
    settings: record.settings,
    log,
    signal: deps.signal,

    async getSecret(key, ask) {
      let stored: string | undefined;
      try {
        stored = await deps.accounts.getSecret(accountId, key);
      } catch (error) {
        // A locked secret store will not open by retrying: the user has to act.
        if (error instanceof SecretStoreError) throw ConnectionError.authenticationImpossible(error.message, { cause: error });
        throw error;
      }
      if (stored !== undefined || ask === undefined) return stored;
      const answer = await ui.request({ kind: 'input', secret: true, title: ask.prompt }, { purpose: 'password', accountId, signal: deps.signal });
      if (answer !== undefined && answer !== '') await deps.accounts.setSecret(accountId, key, answer);
      return answer === '' ? undefined : answer;
    },
    setSecret: (key, value) => deps.accounts.setSecret(accountId, key, value),
    getState: <T>(key: string) => state.get<T>(accountId, `plugin:${key}`),
    setState: (key, value) => state.set(accountId, `plugin:${key}`, value),
    carryOver: {
      get: <T>(key: string) => deps.carryOver.get(key) as T | undefined,
      set: (key, value) => {
        if (live()) deps.carryOver.set(key, value);
      },
      delete: (key) => {
        deps.carryOver.delete(key);
      },
    },
    net: createNet(deps.net, { trustCertificate: (cert) => context.trustCertificate(cert), proxyPassword: deps.proxyPassword }),
    coreSetting: (key) => (key === 'dnsServers' ? deps.dnsServers : undefined),

    progress: guarded('progress', (text: string, step?: number, steps?: number) => runtime.progress(generation, String(text), step, steps)),
    sessionDetail: guarded('sessionDetail', (text: string) => runtime.sessionDetail(generation, String(text))),
    connectionLost: (error) => {
      if (!live()) return;
      runtime.lost(generation, ConnectionError.from(error));
    },

    async trustCertificate(cert: PeerCertificate) {
      const trusted = state.get<Array<{ host: string; fingerprint256: string }>>(accountId, TRUSTED_CERTIFICATES) ?? [];
      if (trusted.some((t) => t.host === cert.host && t.fingerprint256 === cert.fingerprint256)) return true;
      const accepted = await ui.request(
        {
          kind: 'confirm',
          title: `Trust the certificate of ${cert.host}?`,
          message: `The certificate of ${cert.host} could not be verified (${cert.errorCode}). Accept it only if its fingerprint matches what the server's administrator published.`,
          default: false,
          details: { host: cert.host, subject: cert.subject, issuer: cert.issuer, validFrom: cert.validFrom, validTo: cert.validTo, 'SHA-256 fingerprint': cert.fingerprint256 },
        },
        { purpose: 'certificate-trust', accountId, signal: deps.signal },
      );
      if (accepted === true) state.set(accountId, TRUSTED_CERTIFICATES, [...trusted, { host: cert.host, fingerprint256: cert.fingerprint256 }]);
      return accepted === true;
    },
    tlsCa: () => (deps.tlsCa === undefined ? undefined : [...deps.tlsCa]),
    ui: { request: (request, ctx) => ui.request(request, { ...ctx, accountId, signal: ctx.signal ?? deps.signal }) },

    receiveMessage: (message) => {
      if (!live()) return;
      const clean = cleanIncoming(message);
      if (typeof clean === 'string') {
        deps.reportFault('receiveMessage', new Error(`dropped an invalid incoming message: ${clean}`));
        return;
      }
      inbound.push(clean);
      if (!draining) {
        draining = true;
        queueMicrotask(() => void drain());
      }
    },
    messageDelivered: guarded('messageDelivered', (protocolId: string) => conversations.delivered(accountId, protocolId)),
    messageNotDelivered: guarded('messageNotDelivered', (protocolId: string, report: NotDeliveredReport) => {
      const recipients = Array.isArray(report?.recipients) ? report.recipients : undefined;
      if (typeof protocolId !== 'string' || recipients === undefined || typeof report.reason !== 'string') throw new Error('invalid delivery report');
      conversations.notDelivered(accountId, protocolId, recipients.filter(isName).slice(0, 1000), report.reason.replace(/[\r\n\x00]+/g, ' ').slice(0, 500));
    }),
    typing: guarded('typing', (peer: string, typingState: TypingState) => {
      if (!isName(peer) || !['typing', 'paused', 'idle'].includes(typingState)) throw new Error('invalid typing notification');
      conversations.peerTyping(accountId, peer, typingState);
    }),

    buddies: {
      list: () =>
        buddies.buddiesOf(accountId).map((buddy) => {
          const entry: RosterEntry = { name: buddy.name, groups: [buddies.find(accountId, buddy.name)?.contact.group ?? DEFAULT_GROUP] };
          if (buddy.alias !== undefined) entry.alias = buddy.alias;
          return entry;
        }),
      // Copied only when something must be dropped: a roster of thousands is most often all valid.
      sync: guarded('buddies.sync', (entries: readonly RosterEntry[]) => buddies.sync(accountId, entries.every(hasName) ? entries : entries.filter(hasName))),
      syncInParts: () => {
        const parts = buddies.beginSync(accountId);
        return {
          add: guarded('buddies.syncInParts', (entry: RosterEntry) => {
            if (!isName(entry?.name)) throw new Error('roster entry without a name');
            parts.add(entry);
          }),
          end: guarded('buddies.syncInParts', (complete?: boolean) => parts.end(complete !== false)),
        };
      },
      synced: guarded('buddies.synced', () => events.emit('buddyListSynced', accountId)),
      upsert: guarded('buddies.upsert', (entry: RosterEntry) => {
        if (!isName(entry?.name)) throw new Error('roster entry without a name');
        buddies.upsert(accountId, entry);
      }),
      remove: guarded('buddies.remove', (name: string) => buddies.remove(accountId, name)),
      presence: guarded('buddies.presence', (name: string, presence: Presence) => {
        const clean = cleanPresence(presence);
        if (clean === undefined || !isName(name)) throw new Error('invalid presence');
        const previous = buddies.setPresence(accountId, name, clean);
        if (previous === undefined) return;
        if (previous.status === clean.status && previous.message === clean.message && previous.idleSince === clean.idleSince) return;
        hooks.buddyStatusChanged.call({ accountId, buddy: name, previous, current: clean });
        events.emit('buddyPresenceChanged', accountId, name, clean, previous);
      }),
      info: guarded('buddies.info', (name: string, info: Record<string, string>) => {
        buddies.setInfo(accountId, name, info);
        events.emit('buddyInfoReceived', accountId, name, info);
      }),
      icon: guarded('buddies.icon', (name: string, data: Uint8Array | undefined) => {
        if (!isName(name)) throw new Error('icon for a buddy without a name');
        if (data !== undefined && !(data instanceof Uint8Array)) throw new Error('an icon must be bytes');
        if (buddies.find(accountId, name) === undefined || buddies.icons === undefined) return;
        let icon: BuddyIcon | undefined;
        if (data !== undefined) {
          try {
            icon = buddies.icons.store(data);
          } catch (error) {
            // A peer's picture, not the plugin's fault: refused, and the one shown stays.
            if (!(error instanceof IconError)) throw error;
            log.warn('Refused a buddy icon', { buddy: name, code: error.code, reason: error.message });
            return;
          }
        }
        if (buddies.setIcon(accountId, name, icon)) events.emit('buddyIconChanged', accountId, name, icon);
      }),
      async authorizationRequest(from, message) {
        if (!live() || !isName(from)) return false;
        events.emit('authorizationRequested', accountId, from);
        // Pidgin's three answers. A question nobody answers (no UI, Escape) is "later": nothing is granted and nothing is lost.
        const answer = await ui.request(
          { kind: 'choice', title: `${from} wants to add you to their buddy list`, choices: AUTHORIZATION_CHOICES, default: 'allow', ...(message === undefined ? {} : { message }) },
          { purpose: 'authorization', accountId, signal: deps.signal },
        );
        return answer === 'allow' ? true : answer === 'deny' ? false : undefined;
      },
    },

    chats: {
      joined: guarded('chats.joined', (room: string, info?: { topic?: string; title?: string; continues?: string }) => {
        if (!isName(room)) throw new Error('invalid room');
        const { continues, ...rest } = info ?? {};
        conversations.chatJoined(accountId, room, isName(continues) ? { ...rest, continues } : rest);
      }),
      left: guarded('chats.left', (room: string, reason?: string) => conversations.chatLeft(accountId, room, reason)),
      participants: guarded('chats.participants', (room: string, list: readonly ChatParticipant[]) =>
        conversations.setParticipants(accountId, room, list.filter((p) => isName(p?.nick))),
      ),
      participantJoined: guarded('chats.participantJoined', (room: string, participant: ChatParticipant, quiet?: boolean) => {
        if (!isName(participant?.nick)) throw new Error('participant without a nick');
        conversations.participantJoined(accountId, room, participant, quiet === true);
      }),
      participantLeft: guarded('chats.participantLeft', (room: string, nick: string, reason?: string, kind?: 'part' | 'quit' | 'kick') =>
        conversations.participantLeft(accountId, room, nick, reason, kind ?? 'part'),
      ),
      participantRenamed: guarded('chats.participantRenamed', (room: string, oldNick: string, newNick: string) => {
        if (!isName(newNick)) throw new Error('invalid nick');
        conversations.participantRenamed(accountId, room, oldNick, newNick);
      }),
      topic: guarded('chats.topic', (room: string, topic: string, setBy?: string) => conversations.setTopic(accountId, room, String(topic), setBy)),
      typing: guarded('chats.typing', (room: string, nick: string, typingState: TypingState) => {
        if (!isName(room) || !isName(nick) || !['typing', 'paused', 'idle'].includes(typingState)) throw new Error('invalid chat typing notification');
        conversations.participantTyping(accountId, room, nick, typingState);
      }),
      system: guarded('chats.system', (room: string, text: string, error?: boolean) => {
        void conversations.systemFor(accountId, { kind: 'chat', room }, String(text), error === true ? { error: true } : {});
      }),
      saved: guarded('chats.saved', (chats: readonly ServerChat[]) => {
        if (!Array.isArray(chats)) throw new Error('saved chats must be a list');
        buddies.syncChats(
          accountId,
          chats.filter((c) => isName(c?.room)).map((c) => ({ room: c.room, autojoin: c.autojoin === true, ...(typeof c.alias === 'string' ? { alias: c.alias } : {}) })),
        );
      }),
    },

    notice: guarded('notice', (text: string, where?: Target, error?: boolean) => {
      if (where === undefined) {
        log.info(String(text));
        ui.notify(error === true ? 'error' : 'info', String(text), undefined, accountId);
        return;
      }
      void conversations.systemFor(accountId, where, String(text), error === true ? { error: true } : { notice: true });
    }),
    accountInfo: guarded('accountInfo', (info: Record<string, string>) => events.emit('accountInfoReceived', accountInfo(record), { ...info })),
    transfers: deps.transfers.reporterFor(accountId, live, deps.reportFault),
  };
  return context;
}
