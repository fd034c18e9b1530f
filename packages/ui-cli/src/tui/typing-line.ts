import type { ConversationView, TypingState } from '@parley/core';

/** How many names a group's typing line spells out before it counts the rest. */
const NAMES_SHOWN = 3;

/**
 * The line under a conversation that says who is typing: the peer of an IM,
 * or the participants of a group chat (those typing first; those who paused
 * only when nobody types). Undefined when nobody is.
 */
export function typingLine(conversation: Pick<ConversationView, 'kind' | 'typing' | 'chatTyping'>, title: string): string | undefined {
  if (conversation.kind === 'im') {
    if (conversation.typing === 'typing') return `${title} is typing…`;
    if (conversation.typing === 'paused') return `${title} stopped typing`;
    return undefined;
  }
  // An owner older than remote protocol 1.7 sends no chatTyping.
  const states = [...((conversation.chatTyping as ReadonlyMap<string, TypingState> | undefined) ?? new Map<string, TypingState>())];
  const typing = states.filter(([, state]) => state === 'typing').map(([nick]) => nick);
  if (typing.length > 0) return `${names(typing)} ${typing.length === 1 ? 'is' : 'are'} typing…`;
  const paused = states.filter(([, state]) => state === 'paused').map(([nick]) => nick);
  if (paused.length > 0) return `${names(paused)} stopped typing`;
  return undefined;
}

function names(list: readonly string[]): string {
  if (list.length === 1) return list[0]!;
  if (list.length <= NAMES_SHOWN) return `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]!}`;
  const rest = list.length - (NAMES_SHOWN - 1);
  return `${list.slice(0, NAMES_SHOWN - 1).join(', ')} and ${rest} others`;
}
