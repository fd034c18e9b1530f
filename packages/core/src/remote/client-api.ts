import type { ParleyEventsListenOnly } from '../events/events.js';
import type { Parley } from '../parley.js';
import { REMOTE_METHODS, type REMOTE_API } from './protocol.js';
import { snapshotOf, type CoreSnapshot } from './snapshot.js';

type Async<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
type AsyncMethods<T, K extends keyof T> = { readonly [M in K]: Async<T[M]> };
type MethodsOf<N extends keyof typeof REMOTE_API> = keyof (typeof REMOTE_API)[N];

/**
 * The core as a UI sees it, whether it runs in this process
 * (`inProcessClient(parley)`) or in the process that owns the home
 * (`connectToParley({ home })`): the in-process API's names and arguments,
 * every method answering with a promise.
 */
export interface ParleyClient {
  /** `parley.accounts`: add, change, connect and remove accounts, read their states. */
  readonly accounts: AsyncMethods<Parley['accounts'], MethodsOf<'accounts'>>;
  /** `parley.conversations`: open conversations, send in them, mark them read, close them, see what is queued. */
  readonly conversations: AsyncMethods<Parley['conversations'], MethodsOf<'conversations'>>;
  /** `parley.chats`: join and leave group chats, set a topic, the rooms saved on the server. */
  readonly chats: AsyncMethods<Parley['chats'], MethodsOf<'chats'>>;
  /** `parley.buddies`: the buddy list: groups and contacts, adding, moving, renaming, merging, profiles. */
  readonly buddies: AsyncMethods<Parley['buddies'], MethodsOf<'buddies'>>;
  /** `parley.presence`: the person's status, for every account or one. */
  readonly presence: AsyncMethods<Parley['presence'], MethodsOf<'presence'>>;
  /** `parley.plugins`: the installed plugins and the protocols (with their account forms) they add. */
  readonly plugins: AsyncMethods<Parley['plugins'], MethodsOf<'plugins'>>;
  /** Since remote protocol 1.3. */
  readonly transfers: AsyncMethods<Parley['transfers'], MethodsOf<'transfers'>>;
  /** `parley.settings`: the core's global settings (the default proxy). */
  readonly settings: AsyncMethods<Parley['settings'], MethodsOf<'settings'>>;
  /**
   * The core's events, to listen to (`on`, `once`, `off`); a remote client
   * receives only the events it has listeners for, so listen before acting.
   */
  readonly events: ParleyEventsListenOnly;
  /** Since remote protocol 1.6: local history and older pages of the server's archive. */
  readonly history: AsyncMethods<Parley['history'], MethodsOf<'history'>>;
  /** Searches stored messages; empty when history is off. Prefer `history.search`. */
  searchHistory: Async<Parley['searchHistory']>;
  /** Resolves once every message received so far is stored. Prefer `history.flush`. */
  flushHistory: Async<Parley['flushHistory']>;
  /** Runs a slash command line as if typed in the conversation given (or in none); resolves with its output. */
  runCommand: Async<Parley['runCommand']>;
  /** What a UI draws, read at one instant: accounts and states, presence, buddies, conversations, protocols, commands. */
  snapshot(): Promise<CoreSnapshot>;
  /** True when the core runs in another process. */
  readonly remote: boolean;
}

function asyncNamespace(target: Record<string, unknown>, names: readonly string[]): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of names) {
    const fn = target[name] as (this: unknown, ...args: unknown[]) => unknown;
    // Called on its service: a class method needs its `this`.
    out[name] = async (...args) => fn.apply(target, args);
  }
  return out;
}

/** The in-process core behind the same interface as a remote one. */
export function inProcessClient(parley: Parley): ParleyClient {
  const ns = <N extends keyof typeof REMOTE_METHODS>(name: N) => asyncNamespace(parley[name as Exclude<N, 'commands' | 'state'>] as unknown as Record<string, unknown>, REMOTE_METHODS[name]);
  return {
    accounts: ns('accounts') as unknown as ParleyClient['accounts'],
    conversations: ns('conversations') as unknown as ParleyClient['conversations'],
    chats: ns('chats') as unknown as ParleyClient['chats'],
    buddies: ns('buddies') as unknown as ParleyClient['buddies'],
    presence: ns('presence') as unknown as ParleyClient['presence'],
    plugins: ns('plugins') as unknown as ParleyClient['plugins'],
    transfers: ns('transfers') as unknown as ParleyClient['transfers'],
    settings: ns('settings') as unknown as ParleyClient['settings'],
    history: ns('history') as unknown as ParleyClient['history'],
    events: parley.events,
    searchHistory: async (query) => parley.searchHistory(query),
    flushHistory: async () => parley.flushHistory(),
    runCommand: async (line, invocation) => parley.runCommand(line, invocation),
    snapshot: async () => snapshotOf(parley),
    remote: false,
  };
}
