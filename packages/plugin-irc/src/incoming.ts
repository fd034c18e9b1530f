import type { Client } from 'irc-framework';
import type { ConnectionContext, IncomingMessage, Target } from '@parley/core';

/** A line as irc-framework's parser leaves it, before its command dispatch. */
export interface ParsedLine {
  command: string;
  params: readonly string[];
  nick: string;
  tags: Readonly<Record<string, string | undefined>>;
}

/** The fields of an incoming PRIVMSG/NOTICE this plugin uses, whichever path parsed it. */
export interface Incoming {
  from_server: boolean;
  nick: string;
  target: string;
  message: string;
  time?: number | undefined;
  tags?: Readonly<Record<string, string | undefined>> | undefined;
}

export type MessageKind = Readonly<{ action?: boolean; notice?: boolean }>;

export interface Routing {
  isChannel(name: string): boolean;
  /**
   * A message whose source is our own nick: an echo of what we sent
   * (echo-message), or what another client of our account sent. Returns true
   * when it took the message.
   */
  ownMessage?(e: Incoming, kind: MessageKind): boolean;
}

const CTCP = 0x01;
/**
 * Set by the connection on a line from a bouncer's playback batch
 * (`znc.in/playback`): the message is delivered flagged delayed. A space
 * cannot occur in a tag name read from the wire, so no server can set it.
 */
export const PLAYBACK_TAG = 'parley playback';
const NO_FLAGS = Object.freeze({});
const ACTION = Object.freeze({ action: true });
const NOTICE = Object.freeze({ notice: true });

/**
 * Incoming PRIVMSG, ACTION and NOTICE as conversation messages: to a channel
 * in its group chat, to us as an IM with the sender; server notices go to the
 * account's status window. Returns the direct paths for plain PRIVMSG and
 * NOTICE lines (see `directMessage`); the library's events carry the rest.
 */
export function routeIncoming(client: Client, ctx: ConnectionContext, routing: Routing): DirectMessages {
  const deliver = (e: Incoming, flags: MessageKind): void => {
    if (typeof e.message !== 'string' || typeof e.target !== 'string') return;
    if (e.from_server || !e.nick) {
      ctx.notice(e.message);
      return;
    }
    if (routing.ownMessage !== undefined && client.caseCompare(e.nick, client.user.nick) && routing.ownMessage(e, flags)) return;
    const timestamp = typeof e.time === 'number' && Number.isFinite(e.time) ? e.time : undefined;
    const conversation: Target = routing.isChannel(e.target) ? { kind: 'chat', room: e.target } : { kind: 'im', peer: e.nick };
    const incoming: IncomingMessage = { conversation, sender: e.nick, text: e.message };
    if (timestamp !== undefined) incoming.timestamp = timestamp;
    const msgid = messageId(e.tags);
    if (msgid !== undefined) incoming.protocolId = msgid;
    if (e.tags?.[PLAYBACK_TAG] !== undefined) incoming.flags = { ...flags, delayed: true };
    else if (flags !== NO_FLAGS) incoming.flags = flags;
    ctx.receiveMessage(incoming);
  };
  client.on('privmsg', (e) => deliver(e, NO_FLAGS));
  client.on('action', (e) => deliver(e, ACTION));
  client.on('notice', (e) => deliver(e, NOTICE));
  return {
    parsed: (line) => directMessage(client, line, deliver),
    raw: (line) => {
      const parsed = parsePlainMessage(line);
      return parsed !== undefined && directMessage(client, parsed, deliver);
    },
  };
}

export interface DirectMessages {
  /** A line irc-framework parsed: delivered here (true) or left to the library (false). */
  parsed(line: ParsedLine): boolean;
  /** A raw line in the common plain form: delivered without the library's parser (true), or left to it. */
  raw(line: string): boolean;
}

const NO_TAGS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/**
 * The common line ":nick!user@host PRIVMSG target :text" (RFC 2812 section
 * 2.3.1), read without the library's general parser. Anything else (tags,
 * a server prefix, another command, unusual spacing, CTCP) gives undefined
 * and takes the library's path.
 */
export function parsePlainMessage(line: string): ParsedLine | undefined {
  if (line.charCodeAt(0) !== 0x3a /* : */) return undefined;
  const prefixEnd = line.indexOf(' ', 1);
  if (prefixEnd === -1) return undefined;
  const bang = line.indexOf('!', 1);
  const at = bang === -1 ? -1 : line.indexOf('@', bang);
  if (bang <= 1 || at === -1 || at > prefixEnd) return undefined;
  let command: string;
  if (line.startsWith('PRIVMSG ', prefixEnd + 1)) command = 'PRIVMSG';
  else if (line.startsWith('NOTICE ', prefixEnd + 1)) command = 'NOTICE';
  else return undefined;
  const targetStart = prefixEnd + command.length + 2;
  const targetEnd = line.indexOf(' ', targetStart);
  if (targetEnd <= targetStart || line.charCodeAt(targetStart) === 0x3a || line.charCodeAt(targetEnd + 1) !== 0x3a) return undefined;
  const text = line.slice(targetEnd + 2);
  if (text.charCodeAt(0) === CTCP) return undefined;
  return { command, params: [line.slice(targetStart, targetEnd), text], nick: line.slice(1, bang), tags: NO_TAGS };
}

/**
 * A plain PRIVMSG or NOTICE delivered straight from the parsed line. Through
 * irc-framework's dispatch every message gets a cloned command object, an
 * event object copied again for its generic 'message' event, two middleware
 * chains and a timer reset: most of the per-message cost in a busy channel,
 * none of it needed here. Lines that need the library stay on its path:
 * CTCP (it answers VERSION; ACTION and replies are parsed there), lines in an
 * IRCv3 batch (it holds them until the batch ends), and malformed ones.
 * Returns true when the line was delivered here.
 */
function directMessage(client: Client, line: ParsedLine, deliver: (e: Incoming, flags: MessageKind) => void): boolean {
  const command = line.command;
  if (command !== 'PRIVMSG' && command !== 'NOTICE') return false;
  const params = line.params;
  if (params.length < 2) return false;
  const text = params[params.length - 1]!;
  if (text.charCodeAt(0) === CTCP || line.tags.batch !== undefined) return false;
  let target = params[0]!;
  // STATUSMSG ("@#channel": to the channel's operators) belongs to the channel's conversation.
  const group = client.network.extractTargetGroup(target);
  if (group !== null) target = group.target;
  deliver({ from_server: line.nick === '', nick: line.nick, target, message: text, time: serverTime(line.tags.time), tags: line.tags }, command === 'NOTICE' ? NOTICE : NO_FLAGS);
  return true;
}

/** A message id is an opaque token (https://ircv3.net/specs/extensions/message-ids); an odd or overlong one is no id. */
const MSGID = /^[\x21-\x7e]{1,128}$/;

/** The IRCv3 `msgid` tag of a line, when it is a usable id. */
export function messageId(tags: Readonly<Record<string, string | undefined>> | undefined): string | undefined {
  const id = tags?.msgid;
  return typeof id === 'string' && MSGID.test(id) ? id : undefined;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)$/;
const UNIX_TIME = /^\d{1,12}(?:\.\d{1,9})?$/;

/**
 * IRCv3 server-time: the `time` tag in ISO 8601 (https://ircv3.net/specs/extensions/server-time),
 * or ZNC's older Unix seconds. Anything else (Date.parse would read "1.2.3" as a date) is no time.
 */
export function serverTime(tag: string | undefined): number | undefined {
  if (tag === undefined) return undefined;
  if (ISO_TIME.test(tag)) {
    const time = Date.parse(tag);
    return Number.isFinite(time) ? time : undefined;
  }
  return UNIX_TIME.test(tag) ? Math.round(Number(tag) * 1000) : undefined;
}
