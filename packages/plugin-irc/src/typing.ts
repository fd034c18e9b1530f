/**
 * The IRCv3 typing client tag (https://ircv3.net/specs/client-tags/typing,
 * a draft): `+typing` on a TAGMSG (message-tags) with `active`, `paused` or
 * `done`. Earlier clients sent it as `+draft/typing`, read too.
 */
import type { TypingState } from '@parley/core';

export const TYPING_TAG = '+typing';
const DRAFT_TYPING_TAG = '+draft/typing';

const FROM_TAG: Readonly<Record<string, TypingState>> = { active: 'typing', paused: 'paused', done: 'idle' };
const TO_TAG: Readonly<Record<TypingState, string>> = { typing: 'active', paused: 'paused', idle: 'done' };

/** The typing state a TAGMSG's tags carry; undefined when there is none, or an unknown value. */
export function readTypingTag(tags: Readonly<Record<string, string | undefined>> | undefined): TypingState | undefined {
  const value = tags?.[TYPING_TAG] ?? tags?.[DRAFT_TYPING_TAG];
  return value !== undefined && Object.hasOwn(FROM_TAG, value) ? FROM_TAG[value] : undefined;
}

/** The TAGMSG line that says our typing state in `target` (a name already checked to hold no space or line break). */
export function typingLine(target: string, state: TypingState): string {
  return `@${TYPING_TAG}=${TO_TAG[state]} TAGMSG ${target}`;
}
