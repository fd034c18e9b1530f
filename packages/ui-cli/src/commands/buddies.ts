import type { AccountInfo, ParleyClient } from '@parley/core';
import { ConfigError } from '@parley/core/remote';
import { flag, parseCommandArgs, stringOption } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { accountLabel, table } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext, type Session } from './context.js';
import { applySavedStatus } from './saved-status.js';

/**
 * Changes to the buddy list go to the server when the protocol keeps one
 * there, which needs the account online: through a running owner it is
 * signed in there if it is not; without one it is signed in for the command.
 */
async function online(session: Session, account: AccountInfo): Promise<void> {
  if (session.local !== undefined) await applySavedStatus(session.local);
  if ((await session.parley.accounts.status(account.id)).state !== 'online') await session.parley.accounts.connect(account.id);
}

async function contactOf(parley: ParleyClient, account: AccountInfo, name: string) {
  const found = await parley.buddies.find(account.id, name);
  if (found === undefined) throw new ConfigError('unknown-account', `${name} is not on the buddy list of ${accountLabel(account)}`, 'buddy');
  return found;
}

export async function list(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const [ref, extra] = parsed.positionals;
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  return withParley(context, { history: false }, async ({ parley }) => {
    const only = ref === undefined ? undefined : (await parley.accounts.get(ref)).id;
    const labels = new Map((await parley.accounts.list()).map((a) => [a.id, accountLabel(a)]));
    const rows = (await parley.buddies.contacts()).flatMap((contact) =>
      contact.buddies
        .filter((b) => only === undefined || b.accountId === only)
        .map((b) => ({ account: b.accountId, accountLabel: labels.get(b.accountId) ?? b.accountId, name: b.name, alias: b.alias ?? contact.alias, group: contact.group, contact: contact.id, status: b.presence.status })),
    );
    if (flag(parsed, 'json')) printJson(context, rows);
    else if (rows.length === 0) print(context, 'No buddies.');
    else print(context, table(['ACCOUNT', 'NAME', 'ALIAS', 'GROUP', 'STATUS'], rows.map((r) => [r.accountLabel, r.name, r.alias ?? '', r.group, r.status])));
    return EXIT.ok;
  });
}

export async function add(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, { group: { type: 'string' }, alias: { type: 'string' } });
  const [ref, name, extra] = parsed.positionals;
  if (ref === undefined || name === undefined) throw new UsageError('Expected <account> <name>', context.command);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  const group = stringOption(parsed, 'group');
  const alias = stringOption(parsed, 'alias');
  return withParley(context, { history: false }, async (session) => {
    const account = await session.parley.accounts.get(ref);
    await online(session, account);
    await session.parley.buddies.add(account.id, name, { ...(group === undefined ? {} : { group }), ...(alias === undefined ? {} : { alias }) });
    if (flag(parsed, 'json')) printJson(context, { added: name, account: account.id, group: group ?? null, alias: alias ?? null });
    else print(context, `Added ${name} to ${accountLabel(account)}`);
    return EXIT.ok;
  });
}

export async function remove(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const [ref, name, extra] = parsed.positionals;
  if (ref === undefined || name === undefined) throw new UsageError('Expected <account> <name>', context.command);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  return withParley(context, { history: false }, async (session) => {
    const account = await session.parley.accounts.get(ref);
    await contactOf(session.parley, account, name);
    await online(session, account);
    await session.parley.buddies.remove(account.id, name);
    if (flag(parsed, 'json')) printJson(context, { removed: name, account: account.id });
    else print(context, `Removed ${name} from ${accountLabel(account)}`);
    return EXIT.ok;
  });
}

/** `buddies move <account> <name> <group>` and `buddies alias <account> <name> <alias>`: the contact the buddy belongs to. */
function contactChange(kind: 'move' | 'alias') {
  return async (context: CommandContext): Promise<number> => {
    const parsed = parseCommandArgs(context.command, context.args);
    const [ref, name, value, extra] = parsed.positionals;
    if (ref === undefined || name === undefined || value === undefined) throw new UsageError(`Expected <account> <name> <${kind === 'move' ? 'group' : 'alias'}>`, context.command);
    if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
    return withParley(context, { history: false }, async (session) => {
      const account = await session.parley.accounts.get(ref);
      const { contact } = await contactOf(session.parley, account, name);
      await online(session, account);
      if (kind === 'move') await session.parley.buddies.move(contact.id, value);
      else await session.parley.buddies.alias(contact.id, value);
      if (flag(parsed, 'json')) printJson(context, { account: account.id, name, [kind === 'move' ? 'group' : 'alias']: value });
      else print(context, kind === 'move' ? `Moved ${name} to ${value}` : `${name} is now shown as ${value}`);
      return EXIT.ok;
    });
  };
}

export const move = contactChange('move');
export const alias = contactChange('alias');
