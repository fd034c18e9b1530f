import type { Parley } from '../parley.js';
import { isStatusPrimitive } from '../presence/presence.js';
import { CommandError } from './registry.js';

function requireConversation(parley: Parley, conversationId: string | undefined, command: string) {
  const conversation = conversationId === undefined ? undefined : parley.conversations.get(conversationId);
  if (conversation === undefined) throw new CommandError('command-not-applicable', `/${command} must be typed in a conversation`);
  return conversation;
}

/** Commands every protocol shares; a protocol can register its own variant of any of them. */
export function registerCoreCommands(parley: Parley): void {
  const register = parley.commands.register.bind(parley.commands);
  register({
    name: 'help',
    help: 'List commands, or show one: /help [command]',
    usage: '[command]',
    owner: 'core',
    run: (args, invocation) => {
      const conversation = invocation.conversationId === undefined ? undefined : parley.conversations.get(invocation.conversationId);
      const protocol = conversation === undefined ? undefined : parley.accounts.get(conversation.accountId).protocol;
      const wanted = args.replace(/^\//, '').trim();
      const list = parley.commands.list(protocol).filter((c) => wanted === '' || c.name === wanted);
      if (list.length === 0) throw new CommandError('unknown-command', `Unknown command /${wanted}`);
      return list.map((c) => `/${c.name}${c.usage ? ` ${c.usage}` : ''} — ${c.help}`).join('\n');
    },
  });
  register({
    name: 'me',
    help: 'Send an action: /me waves',
    usage: '<action>',
    owner: 'core',
    run: async (args, invocation) => {
      const conversation = requireConversation(parley, invocation.conversationId, 'me');
      await parley.conversations.send(conversation.id, args, { action: true });
    },
  });
  register({
    name: 'msg',
    help: 'Send a private message from this conversation\'s account',
    usage: '<peer> <text>',
    owner: 'core',
    run: async (args, invocation) => {
      const conversation = requireConversation(parley, invocation.conversationId, 'msg');
      const match = /^(\S+)\s+([\s\S]+)$/.exec(args);
      if (match === null) throw new CommandError('command-usage', 'Usage: /msg <peer> <text>');
      await parley.conversations.sendIm(conversation.accountId, match[1]!, match[2]!);
    },
  });
  register({
    name: 'join',
    help: 'Join a group chat with this conversation\'s account',
    usage: '<room> [password]',
    owner: 'core',
    run: async (args, invocation) => {
      const conversation = requireConversation(parley, invocation.conversationId, 'join');
      const [room, password] = args.split(/\s+/);
      if (room === undefined || room === '') throw new CommandError('command-usage', 'Usage: /join <room> [password]');
      await parley.chats.join(conversation.accountId, room, password === undefined ? {} : { password });
    },
  });
  register({
    name: 'part',
    help: 'Leave this group chat',
    owner: 'core',
    run: async (_args, invocation) => {
      const conversation = requireConversation(parley, invocation.conversationId, 'part');
      await parley.chats.leave(conversation.id);
    },
  });
  register({
    name: 'topic',
    help: 'Set this group chat\'s topic',
    usage: '<topic>',
    owner: 'core',
    run: async (args, invocation) => {
      const conversation = requireConversation(parley, invocation.conversationId, 'topic');
      if (args === '') return conversation.topic === undefined ? 'No topic is set' : `Topic: ${conversation.topic}`;
      await parley.chats.setTopic(conversation.id, args);
    },
  });
  register({
    name: 'status',
    help: 'Set your status on every account: available, away, busy, extended-away, invisible or offline, with a message',
    usage: '<status> [message]',
    owner: 'core',
    run: async (args) => {
      const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(args);
      const status = match?.[1];
      if (!isStatusPrimitive(status)) throw new CommandError('command-usage', 'Usage: /status available|away|busy|extended-away|invisible|offline [message]');
      await parley.presence.set(match?.[2] === undefined ? { status } : { status, message: match[2] });
    },
  });
}
