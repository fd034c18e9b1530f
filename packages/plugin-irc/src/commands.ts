import { withCommandHandlers, type ConnectionContext, type ProtocolCommand, type ProtocolConnection, type Target } from '@parley/core';
import { descriptor } from './descriptor.js';
import { randomUUID } from 'node:crypto';
import { IrcConnection } from './connection.js';
import { IrcError } from './errors.js';
import { word } from './sanitize.js';

type Invocation = { connection: ProtocolConnection; target?: Target; context: ConnectionContext };

function irc(connection: ProtocolConnection): IrcConnection {
  if (!(connection instanceof IrcConnection)) throw new IrcError('irc-invalid-input', 'This command needs an IRC account');
  return connection;
}

function firstWord(args: string): [string, string] {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(args.trim());
  return match === null ? ['', ''] : [match[1]!, match[2]!];
}

function usage(text: string): never {
  throw new IrcError('irc-invalid-input', `Usage: ${text}`);
}

function roomOf(target: Target | undefined, explicit: string, conn: IrcConnection): string {
  if (explicit !== '' && conn.isChannel(explicit)) return explicit;
  if (target?.kind === 'chat') return target.room;
  return '';
}

/** Sends text and records it in the conversation as ours (the core did not send it itself). */
async function sendAndRecord(inv: Invocation, target: Target, text: string, action: boolean): Promise<void> {
  const conn = irc(inv.connection);
  await conn.sendMessage(target, { id: randomUUID(), text, flags: action ? { action: true } : {} });
  inv.context.receiveMessage({
    conversation: target.kind === 'im' ? { kind: 'im', peer: target.peer } : { kind: 'chat', room: target.room },
    sender: conn.nick,
    text,
    fromSelf: true,
    ...(action ? { flags: { action: true } } : {}),
  });
}

/** The code of the commands the descriptor declares. */
export const ircCommands: ProtocolCommand[] = withCommandHandlers(descriptor.commands, {
  async join(args, inv) {
    const [room, key] = firstWord(args);
    if (room === '') usage('/join <#channel> [key]');
    await irc(inv.connection).joinChat(room, key === '' ? {} : { password: key.split(/\s+/)[0]! });
  },
  async part(args, inv) {
    const conn = irc(inv.connection);
    const [first, rest] = firstWord(args);
    const room = roomOf(inv.target, first, conn);
    if (room === '') usage('/part [#channel] [reason]');
    await conn.leaveChat(room);
    void rest;
  },
  async msg(args, inv) {
    const [nick, text] = firstWord(args);
    if (nick === '' || text === '') usage('/msg <nick> <text>');
    const conn = irc(inv.connection);
    const target: Target = conn.isChannel(nick) ? { kind: 'chat', room: word(nick, 'channel') } : { kind: 'im', peer: word(nick, 'nick') };
    await sendAndRecord(inv, target, text, false);
  },
  async me(args, inv) {
    if (args.trim() === '') usage('/me <action>');
    if (inv.target === undefined) throw new IrcError('irc-invalid-input', '/me works in a conversation');
    await sendAndRecord(inv, inv.target, args, true);
  },
  nick(args, inv) {
    if (args.trim() === '') usage('/nick <nick>');
    // The whole argument is the nick: "x\r\nQUIT" is refused, not shortened to "x".
    irc(inv.connection).changeNick(args.trim());
  },
  async topic(args, inv) {
    const conn = irc(inv.connection);
    const [first, rest] = firstWord(args);
    const explicit = first !== '' && conn.isChannel(first);
    const room = roomOf(inv.target, explicit ? first : '', conn);
    if (room === '') usage('/topic [#channel] [topic]');
    const topic = explicit ? rest : args.trim();
    if (topic === '') conn.requestTopic(room);
    else await conn.setTopic(room, topic);
  },
  async whois(args, inv) {
    const [nick] = firstWord(args);
    if (nick === '') usage('/whois <nick>');
    const info = await irc(inv.connection).getBuddyInfo(nick);
    return Object.entries(info)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
  },
  async history(args, inv) {
    const text = args.trim();
    if (text !== '' && !/^\d{1,4}$/.test(text)) usage('/history [count]');
    if (inv.target === undefined) throw new IrcError('irc-invalid-input', '/history works in a conversation');
    const count = await irc(inv.connection).olderHistory(inv.target, text === '' ? 50 : Number(text));
    return count === 0 ? 'No older messages on the server' : `${count} older message${count === 1 ? '' : 's'} fetched from the server`;
  },
  quote(args, inv) {
    if (args.trim() === '') usage('/quote <raw line>');
    irc(inv.connection).quote(args);
  },
});
