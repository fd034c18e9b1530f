import { defineFeaturePlugin, type ConversationInfo, type FeaturePluginDescriptor, type Message } from '@parley/core';
import { descriptor } from './descriptor.js';

/** Statuses in which the user is not at the keyboard. */
const AWAY = new Set(['away', 'extended-away', 'busy']);
/** At most one automatic answer per conversation in this window, so two auto-repliers cannot loop. */
const DEFAULT_INTERVAL_MS = 10 * 60_000;

/** The plugin's settings, from the config file's `plugins["Auto-reply"]`. */
export interface AutoReplyConfig {
  /** The answer; defaults to the status message, then to a generic line. */
  message?: string;
  /** The least time between two answers in one conversation, in milliseconds; default 10 minutes. */
  intervalMs?: number;
}

function shouldAnswer(message: Message, conversation: ConversationInfo): boolean {
  return (
    conversation.kind === 'im' &&
    message.direction === 'incoming' &&
    message.flags.autoReply !== true &&
    message.flags.system !== true &&
    message.flags.delayed !== true &&
    message.flags.notice !== true
  );
}

/**
 * Answers private messages automatically while the user is away, the way
 * Pidgin's "auto-reply when away" did: once per conversation per interval,
 * never to an automatic answer, never to offline or room messages.
 */
export const autoReply = defineFeaturePlugin({
  name: 'auto-reply',
  apply(api) {
    const config = api.config as AutoReplyConfig;
    const interval = typeof config.intervalMs === 'number' ? config.intervalMs : DEFAULT_INTERVAL_MS;
    const lastAnswer = new Map<string, number>();
    api.events.on('messageReceived', (message, conversation) => {
      if (!shouldAnswer(message, conversation)) return;
      const presence = api.presence();
      // Each decision not to answer a message from a person is logged: "why did it not answer?" has an answer.
      if (!AWAY.has(presence.status)) {
        api.log.debug('not answering: the user is not away', { conversation: conversation.id, message: message.id });
        return;
      }
      const now = Date.now();
      const last = lastAnswer.get(conversation.id);
      if (last !== undefined && now - last < interval) {
        api.log.debug('not answering: answered in this conversation recently', { conversation: conversation.id, message: message.id });
        return;
      }
      lastAnswer.set(conversation.id, now);
      const text = config.message ?? presence.message ?? 'I am away from my computer right now.';
      api.send(conversation.id, text, { autoReply: true }).catch((error: unknown) => {
        api.log.warn('could not send the automatic answer', { error: error instanceof Error ? error.message : String(error) });
      });
    });
    api.events.on('presenceChanged', (presence) => {
      // Coming back resets the window: the next absence answers again.
      if (!AWAY.has(presence.status)) lastAnswer.clear();
    });
  },
});

export default autoReply;
/**
 * What the plugin declares about itself (name, core API range, entry): the
 * source of the `parley` field the build writes into its package.json, typed
 * as the core's descriptor so its shape is documented in one place.
 */
const publicDescriptor: FeaturePluginDescriptor = descriptor;
export { publicDescriptor as descriptor };
