import type { Target } from '@parley/core';
import { ACTION_WRAPPER_BYTES, actionBody } from './ctcp.js';
import { IrcError } from './errors.js';
import { textLines, word } from './sanitize.js';
import { splitText, textBudget } from './split.js';

/**
 * The raw lines that carry one outgoing message: each line of the text its
 * own message (CR, LF and NUL never reach the wire), each cut to fit the
 * 512-byte limit with our prefix.
 */
export function outgoingLines(target: string, text: string, flags: { action?: boolean; notice?: boolean }, source: string): string[] {
  word(target, 'target');
  const command = flags.notice === true ? 'NOTICE' : 'PRIVMSG';
  const action = flags.action === true && command === 'PRIVMSG';
  const budget = textBudget({ command, target, source, wrapperBytes: action ? ACTION_WRAPPER_BYTES : 0 });
  const out: string[] = [];
  for (const line of textLines(text)) {
    for (const piece of splitText(line, budget)) out.push(`${command} ${target} :${action ? actionBody(piece) : piece}`);
  }
  if (out.length === 0) throw new IrcError('irc-invalid-input', 'The message is empty');
  return out;
}

export function targetName(target: Target): string {
  return target.kind === 'im' ? target.peer : target.room;
}

/** The text of one of `outgoingLines`' lines (its trailing parameter), as an echo of it carries it. */
export function lineText(line: string): string {
  // The target is one word, so the first " :" starts the trailing parameter.
  return line.slice(line.indexOf(' :') + 2);
}
