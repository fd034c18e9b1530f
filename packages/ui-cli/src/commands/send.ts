import type { ParleyError } from '@parley/core';
import { flag, parseCommandArgs } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { shownName } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';
import { signInToSend } from './sign-in-to-send.js';

export async function send(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const [ref, to, ...words] = parsed.positionals;
  if (ref === undefined || to === undefined || words.length === 0) throw new UsageError('Expected <account> <to> <text>', context.command);
  const text = words.join(' ');
  const json = flag(parsed, 'json');
  return withParley(context, { history: true }, async (session) => {
    const { parley } = session;
    const account = await signInToSend(context, session, ref, json);
    if (typeof account === 'number') return account;
    let failure: ParleyError | undefined;
    parley.events.on('messageFailed', (message, _conversation, error) => {
      if (message.text === text) failure = error;
    });
    const message = await parley.conversations.sendIm(account.id, to, text);
    if (message === undefined || message.delivery === 'failed' || message.delivery === 'queued') {
      const reason = message === undefined ? 'a plugin cancelled the message' : (failure?.message ?? `the message is ${message.delivery}`);
      if (json) printJson(context, { sent: false, account: account.id, to, error: { code: failure?.code ?? 'send-failed', message: reason } });
      else context.io.stderr.write(`Not sent to ${shownName(to)}: ${reason}\n`);
      return EXIT.sendFailed;
    }
    if (json) printJson(context, { sent: true, account: account.id, to, id: message.id, protocolId: message.protocolId, timestamp: message.timestamp });
    else print(context, `Sent to ${shownName(to)}`);
    return EXIT.ok;
  });
}
