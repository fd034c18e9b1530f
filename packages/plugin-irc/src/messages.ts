import type { Client, MessageEvent } from 'irc-framework';
import type { ConnectionContext, OutgoingMessage, Target } from '@parley/core';
import { ACTION_WRAPPER_BYTES, actionBody } from './ctcp.js';
import { IrcError } from './errors.js';
import { textLines, word } from './sanitize.js';
import { splitText, textBudget } from './split.js';

export interface MessageRouting {
  isChannel(name: string): boolean;
  /** Our "nick!user@host" as the server relays it (for the 512-byte budget). */
  source(): string;
  selfNick(): string;
}

/**
 * Incoming PRIVMSG, ACTION and NOTICE as conversation messages: to a channel
 * in its group chat, to us as an IM with the sender; server notices go to the
 * account's status window.
 */
export function routeIncoming(client: Client, ctx: ConnectionContext, routing: MessageRouting): void {
  const deliver = (e: MessageEvent, flags: { action?: boolean; notice?: boolean }): void => {
    if (typeof e.message !== 'string' || typeof e.target !== 'string') return;
    if (e.from_server || !e.nick) {
      ctx.notice(e.message);
      return;
    }
    const timestamp = typeof e.time === 'number' && Number.isFinite(e.time) ? e.time : undefined;
    const base = {
      sender: e.nick,
      text: e.message,
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(flags.action || flags.notice ? { flags } : {}),
    };
    if (routing.isChannel(e.target)) {
      ctx.receiveMessage({ conversation: { kind: 'chat', room: e.target }, ...base });
    } else {
      ctx.receiveMessage({ conversation: { kind: 'im', peer: e.nick }, ...base });
    }
  };
  client.on('privmsg', (e) => deliver(e, {}));
  client.on('action', (e) => deliver(e, { action: true }));
  client.on('notice', (e) => deliver(e, { notice: true }));
}

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

export function sendMessage(client: Client, target: Target, message: OutgoingMessage, source: string): void {
  if (!client.connected) throw new IrcError('irc-not-connected', 'Not connected to the IRC server');
  for (const line of outgoingLines(targetName(target), message.text, message.flags, source)) client.raw(line);
}
