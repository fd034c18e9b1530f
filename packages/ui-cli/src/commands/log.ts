import { flag, parseCommandArgs, parseSince, positiveInteger, stringOption } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { accountLabel, historyLine } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';

export async function search(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, {
    peer: { type: 'string' },
    account: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
  });
  const words = parsed.positionals.join(' ').trim();
  const peer = stringOption(parsed, 'peer');
  const accountRef = stringOption(parsed, 'account');
  const sinceText = stringOption(parsed, 'since');
  const untilText = stringOption(parsed, 'until');
  if (words === '' && peer === undefined && accountRef === undefined && sinceText === undefined && untilText === undefined) {
    throw new UsageError('Give words to search for, or --peer, --account, --since or --until', context.command);
  }
  const since = sinceText === undefined ? undefined : parseSince(sinceText, Date.now(), '--since');
  const until = untilText === undefined ? undefined : parseSince(untilText, Date.now(), '--until');
  if (since !== undefined && until !== undefined && until < since) throw new UsageError('--until is before --since', context.command);
  const limit = positiveInteger(parsed, 'limit', context.command) ?? 100;
  return withParley(context, { history: true }, async ({ parley }) => {
    const entries = await parley.searchHistory({
      limit,
      ...(words === '' ? {} : { words }),
      ...(peer === undefined ? {} : { peer }),
      ...(accountRef === undefined ? {} : { account: accountRef }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    });
    const labels = new Map((await parley.accounts.list()).map((a) => [a.id, accountLabel(a)]));
    if (flag(parsed, 'json')) {
      printJson(
        context,
        entries.map((e) => ({
          timestamp: e.timestamp,
          account: e.accountId,
          accountLabel: labels.get(e.accountId),
          peer: e.peer,
          kind: e.conversationKind,
          direction: e.direction,
          sender: e.sender,
          text: e.text,
          flags: e.flags,
        })),
      );
    } else {
      for (const entry of entries) print(context, historyLine(entry, labels.get(entry.accountId) ?? entry.accountId));
    }
    return entries.length > 0 ? EXIT.ok : EXIT.notFound;
  });
}
