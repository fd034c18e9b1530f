import type { HookName } from './hooks.js';

/** What a hook is for, as the hooks table in docs/plugins.md shows it. */
export interface HookDescription {
  /** The tapable kind: what its taps' results mean. */
  kind: 'sync' | 'async series' | 'async series waterfall';
  /** When it runs. */
  runs: string;
  /** What a tap may do. */
  tap: string;
}

/**
 * Every hook, in the order they run for a message. A `Record<HookName, …>`,
 * so a hook added without a description does not compile; docs/plugins.md's
 * table is generated from it (`npm run docs`).
 */
export const HOOK_DESCRIPTIONS: Readonly<Record<HookName, HookDescription>> = Object.freeze({
  receivingMessage: { kind: 'async series waterfall', runs: 'an incoming message, first', tap: 'rewrite it, or cancel it with `null`' },
  sendingMessage: { kind: 'async series waterfall', runs: 'an outgoing message, before it is sent or queued', tap: 'rewrite, or cancel' },
  writingToConversation: { kind: 'async series waterfall', runs: 'any message, before the conversation, the `messageWritten` event and history', tap: 'rewrite, or hide' },
  conversationCreated: { kind: 'sync', runs: 'a new conversation, before it is announced', tap: 'observe' },
  chatJoined: { kind: 'sync', runs: 'a group chat was joined', tap: 'observe' },
  accountConnecting: { kind: 'async series', runs: "before a protocol plugin's `connect()`", tap: 'observe (may wait; a throw is isolated, not fatal)' },
  accountConnected: { kind: 'sync', runs: 'signed in, before queued messages are sent', tap: 'observe' },
  accountDisconnected: { kind: 'sync', runs: 'the connection closed (with its error, if any)', tap: 'observe' },
  buddyStatusChanged: { kind: 'sync', runs: "a buddy's presence changed", tap: 'observe' },
});
