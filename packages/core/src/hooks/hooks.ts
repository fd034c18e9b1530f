import { AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { Message } from '../conversations/message.js';
import type { AccountInfo } from '../accounts/account.js';
import type { ConnectionError } from '../errors/ConnectionError.js';
import type { Presence } from '../presence/presence.js';
import type { ConversationInfo } from '../conversations/conversation.js';

/**
 * The phases where a plugin can change the outcome. HOOK_DESCRIPTIONS
 * (descriptions.ts) says when each runs and what a tap may do; the table in
 * docs/plugins.md is generated from it.
 *
 * A tap that throws is reported with its plugin's name and skipped: the
 * value flows on unchanged. A plugin whose taps keep failing is disabled.
 */
export interface BuddyStatusChange {
  /** The account the buddy is on. */
  accountId: string;
  /** The buddy's address. */
  buddy: string;
  /** Its presence before the change. */
  previous: Presence;
  /** Its presence now. */
  current: Presence;
}

export function createHooks() {
  return Object.freeze({
    receivingMessage: new AsyncSeriesWaterfallHook<[Message | null]>(['message']),
    sendingMessage: new AsyncSeriesWaterfallHook<[Message | null]>(['message']),
    writingToConversation: new AsyncSeriesWaterfallHook<[Message | null]>(['message']),
    conversationCreated: new SyncHook<[ConversationInfo]>(['conversation']),
    chatJoined: new SyncHook<[ConversationInfo]>(['conversation']),
    accountConnecting: new AsyncSeriesHook<[AccountInfo]>(['account']),
    accountConnected: new SyncHook<[AccountInfo]>(['account']),
    accountDisconnected: new SyncHook<[AccountInfo, ConnectionError | undefined]>(['account', 'error']),
    buddyStatusChanged: new SyncHook<[BuddyStatusChange]>(['change']),
  });
}

export type ParleyHooks = ReturnType<typeof createHooks>;
/** The name of one of the core's hooks (see `HOOK_NAMES` and `HOOK_DESCRIPTIONS`). */
export type HookName = keyof ParleyHooks;

type WaterfallNames = 'receivingMessage' | 'sendingMessage' | 'writingToConversation';
type MessageTap = (message: Message) => Message | null | undefined | void | Promise<Message | null | undefined | void>;
interface ObserverArgs {
  conversationCreated: [conversation: ConversationInfo];
  chatJoined: [conversation: ConversationInfo];
  accountConnecting: [account: AccountInfo];
  accountConnected: [account: AccountInfo];
  accountDisconnected: [account: AccountInfo, error: ConnectionError | undefined];
  buddyStatusChanged: [change: BuddyStatusChange];
}

/** How a tap is placed among the others on its hook. */
export interface TapOptions {
  /** Lower runs earlier; default 0. */
  stage?: number;
}

/**
 * The side of the hooks a plugin sees: it can tap, never call. Waterfall
 * taps return the (possibly rewritten) message, `null` to cancel, or nothing
 * to leave it as it is.
 */
export type ParleyHooksTapOnly = {
  [N in WaterfallNames]: {
    /** Adds `fn` to the hook; it sees each message and may rewrite or cancel it. */
    tap(fn: MessageTap, options?: TapOptions): void;
  };
} & {
  [N in keyof ObserverArgs]: {
    /** Adds `fn` to the hook; it is called with the hook's arguments (awaited on async hooks). */
    tap(fn: (...args: ObserverArgs[N]) => void | Promise<void>, options?: TapOptions): void;
  };
};

const WATERFALLS: ReadonlySet<HookName> = new Set<HookName>(['receivingMessage', 'sendingMessage', 'writingToConversation']);
const ASYNC: ReadonlySet<HookName> = new Set<HookName>(['receivingMessage', 'sendingMessage', 'writingToConversation', 'accountConnecting']);
/** Every hook's name; what each does, and when it runs, is in `HOOK_DESCRIPTIONS`. */
export const HOOK_NAMES: readonly HookName[] = [
  'receivingMessage',
  'sendingMessage',
  'writingToConversation',
  'conversationCreated',
  'chatJoined',
  'accountConnecting',
  'accountConnected',
  'accountDisconnected',
  'buddyStatusChanged',
];

export type HookFaultReporter = (plugin: string, hook: HookName, error: unknown) => void;

/**
 * Builds a tap-only view of the hooks for one plugin. Every tap is wrapped:
 * a throw (or rejection) is reported and the value passes on; once the
 * plugin is disabled its taps become no-ops.
 */
export function tapOnlyHooks(hooks: ParleyHooks, plugin: string, report: HookFaultReporter, isDisabled: () => boolean): ParleyHooksTapOnly {
  const view: Record<string, { tap(fn: (...args: never[]) => unknown, options?: TapOptions): void }> = {};
  for (const name of HOOK_NAMES) {
    view[name] = {
      tap(fn, options = {}) {
        const tapInfo = { name: plugin, stage: options.stage ?? 0 };
        const call = fn as (...args: unknown[]) => unknown;
        if (WATERFALLS.has(name)) {
          const step = messageStep(call, () => isDisabled(), (error) => report(plugin, name, error));
          // Callback style, so a tap that answers at once costs no promise: every message runs these.
          const tapFn = (message: Message | null, next: (error: null, value: Message | null) => void) => {
            const result = step(message);
            if (result instanceof Promise) void result.then((value) => next(null, value));
            else next(null, result);
          };
          (tapFn as StepCarrier)[MESSAGE_STEP] = step;
          (hooks[name] as AsyncSeriesWaterfallHook<[Message | null]>).tapAsync(tapInfo, tapFn);
        } else if (ASYNC.has(name)) {
          (hooks[name] as AsyncSeriesHook<unknown[]>).tapPromise(tapInfo, async (...args: unknown[]) => {
            if (isDisabled()) return;
            try {
              await call(...args);
            } catch (error) {
              report(plugin, name, error);
            }
          });
        } else {
          (hooks[name] as SyncHook<unknown[]>).tap(tapInfo, (...args: unknown[]) => {
            if (isDisabled()) return;
            try {
              const result = call(...args);
              // An async tap on a sync hook: its rejection is still isolated.
              if (result instanceof Promise) result.catch((error: unknown) => report(plugin, name, error));
            } catch (error) {
              report(plugin, name, error);
            }
          });
        }
      },
    };
  }
  return view as unknown as ParleyHooksTapOnly;
}

/** One waterfall tap's work on a message: the message to pass on, or a promise of it when the tap answers later. */
type MessageStep = (message: Message | null) => Message | null | Promise<Message | null>;
const MESSAGE_STEP = Symbol('messageStep');
type StepCarrier = { [MESSAGE_STEP]?: MessageStep };

function messageStep(call: (...args: unknown[]) => unknown, isDisabled: () => boolean, fault: (error: unknown) => void): MessageStep {
  const settle = (message: Message, result: unknown): Message | null => {
    if (result === undefined) return message;
    if (result === null) return null;
    if (!isMessageLike(result)) {
      fault(new TypeError(`returned ${typeof result}, expected a message, null or nothing`));
      return message;
    }
    return result;
  };
  return (message) => {
    if (message === null || isDisabled()) return message;
    let result: unknown;
    try {
      result = call(message);
    } catch (error) {
      fault(error);
      return message;
    }
    if (!isThenable(result)) return settle(message, result);
    const later = result;
    return new Promise((resolve) => {
      later.then(
        (value) => resolve(settle(message, value)),
        (error: unknown) => {
          fault(error);
          resolve(message);
        },
      );
    });
  };
}

/**
 * Runs a message waterfall (receivingMessage, sendingMessage, writingToConversation) by calling its
 * taps in turn, as tapable would: the message as the last tap left it, or `null` when one cancelled
 * it, with no promise when every tap answers at once. Every message runs this, and tapable's compiled
 * caller makes several closures per call; the taps' order (stage) is tapable's own. A hook with a tap
 * or interceptor not added through `tapOnlyHooks` goes through tapable itself.
 */
export function runMessageWaterfall(hook: AsyncSeriesWaterfallHook<[Message | null]>, message: Message): Message | null | Promise<Message | null> {
  const taps = hook.taps;
  let direct = hook.interceptors.length === 0;
  for (let i = 0; direct && i < taps.length; i++) direct = (taps[i]!.fn as StepCarrier)[MESSAGE_STEP] !== undefined;
  if (!direct) return viaTapable(hook, message);
  return stepFrom(taps, 0, message);
}

function stepFrom(taps: ReadonlyArray<{ fn: unknown }>, first: number, message: Message | null): Message | null | Promise<Message | null> {
  let value = message;
  for (let i = first; i < taps.length; i++) {
    const result = (taps[i]!.fn as StepCarrier)[MESSAGE_STEP]!(value);
    // A tap answering later: the rest run once it has, from the list as it is now (as tapable's call would).
    if (result instanceof Promise) {
      const rest = taps.slice(i + 1);
      return result.then((later) => stepFrom(rest, 0, later));
    }
    value = result;
  }
  return value;
}

function viaTapable(hook: AsyncSeriesWaterfallHook<[Message | null]>, message: Message): Message | null | Promise<Message | null> {
  let settled: { error: unknown; value: Message | null } | undefined;
  let later: { resolve: (value: Message | null) => void; reject: (error: unknown) => void } | undefined;
  hook.callAsync(message, (error, value) => {
    const result = (value ?? null) as Message | null;
    if (later === undefined) settled = { error, value: result };
    else if (error) later.reject(error);
    else later.resolve(result);
  });
  if (settled !== undefined) {
    if (settled.error) throw settled.error;
    return settled.value;
  }
  return new Promise((resolve, reject) => (later = { resolve, reject }));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function isMessageLike(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<Message>;
  return typeof m.id === 'string' && typeof m.text === 'string' && typeof m.conversationId === 'string' && typeof m.timestamp === 'number';
}
