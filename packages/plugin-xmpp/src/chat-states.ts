import type { TypingState } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

/** XEP-0085 Chat State Notifications. */
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

const TO_TYPING: Record<string, TypingState> = { composing: 'typing', paused: 'paused', active: 'idle', inactive: 'idle', gone: 'idle' };
const FROM_TYPING: Record<TypingState, string> = { typing: 'composing', paused: 'paused', idle: 'active' };

export function readChatState(message: Element): TypingState | undefined {
  for (const child of message.getChildElements()) {
    if (child.attrs.xmlns === NS_CHATSTATES && child.name in TO_TYPING) return TO_TYPING[child.name];
  }
  return undefined;
}

export function chatStateElement(state: TypingState): Element {
  return xml(FROM_TYPING[state], { xmlns: NS_CHATSTATES });
}

/**
 * §5.1: standalone notifications go only to peers that showed they support
 * them (they sent one to us); every message we send carries <active/>, which
 * is how a peer learns that we do.
 */
export class ChatStateSupport {
  private readonly peers = new Set<string>();
  seen(peer: string): void {
    this.peers.add(peer);
  }
  supports(peer: string): boolean {
    return this.peers.has(peer);
  }
}
