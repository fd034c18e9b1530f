import type { AccountInfo, OptionSchema, ParleyClient } from '@parley/core';
import { ConnectionError } from '@parley/core/remote';
import { flag, keyValues, listOption, parseCommandArgs, stringOption } from '../cli/args.js';
import { accountLabel, connectionErrorJson, connectionErrorLines, table } from '../cli/format.js';
import { EXIT } from '../cli/exit-codes.js';
import { askLine, readPasswordFromStdin } from '../cli/prompt.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';
import { applySavedStatus } from './saved-status.js';

async function accountJson(parley: ParleyClient, account: AccountInfo): Promise<Record<string, unknown>> {
  return { ...account, settings: await parley.accounts.settings(account.id) };
}

export async function list(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  if (parsed.positionals.length > 0) throw new UsageError(`Unexpected argument "${parsed.positionals[0]}"`, context.command);
  return withParley(context, { history: false }, async ({ parley }) => {
    const accounts = await parley.accounts.list();
    if (flag(parsed, 'json')) printJson(context, await Promise.all(accounts.map((a) => accountJson(parley, a))));
    else if (accounts.length === 0) print(context, 'No accounts. Add one with: parley accounts add <protocol> <username>');
    else print(context, table(['ID', 'ACCOUNT', 'ALIAS', 'ENABLED'], accounts.map((a) => [a.id, accountLabel(a), a.alias ?? '', a.enabled ? 'yes' : 'no'])));
    return EXIT.ok;
  });
}

/** The secret options a password answers: the one called "password", else every required secret. */
function passwordKeys(schema: OptionSchema): string[] {
  const secrets = Object.entries(schema).filter(([, spec]) => spec.kind === 'secret');
  const named = secrets.filter(([key]) => key === 'password');
  return (named.length > 0 ? named : secrets.filter(([, spec]) => spec.required === true)).map(([key]) => key);
}

function settingsFrom(context: CommandContext, schema: OptionSchema, pairs: Array<[string, string]>): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, value] of pairs) {
    if (schema[key]?.kind === 'secret') {
      throw new UsageError(`"${key}" is a secret: it is never taken from the command line (use --password-stdin or the prompt)`, context.command);
    }
    settings[key] = value;
  }
  return settings;
}

async function passwordFor(context: CommandContext, fromStdin: boolean, label: string): Promise<string | undefined> {
  if (fromStdin) {
    const password = await readPasswordFromStdin(context.io.stdin);
    if (password === '') throw new UsageError('--password-stdin: stdin held no password', context.command);
    return password;
  }
  if (context.io.stdin.isTTY !== true) return undefined;
  const answer = await askLine(context.io.stdin, context.io.stderr, `Password for ${label}: `, { secret: true });
  return answer === '' ? undefined : answer;
}

export async function add(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, {
    alias: { type: 'string' },
    set: { type: 'string', multiple: true },
    'password-stdin': { type: 'boolean' },
    disabled: { type: 'boolean' },
  });
  const [protocol, username, extra] = parsed.positionals;
  if (protocol === undefined || username === undefined) throw new UsageError('Expected <protocol> <username>', context.command);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}" (settings go in --set key=value)`, context.command);
  const fromStdin = flag(parsed, 'password-stdin');
  return withParley(context, { history: false, stdinTaken: fromStdin }, async ({ parley }) => {
    const descriptor = await parley.plugins.protocol(protocol);
    // Unknown protocols are refused by the core with the list of installed ones.
    const schema = descriptor?.options ?? {};
    const settings = settingsFrom(context, schema, keyValues(listOption(parsed, 'set'), context.command));
    const secrets: Record<string, string> = {};
    const keys = passwordKeys(schema);
    if (descriptor !== undefined && keys.length > 0) {
      const password = await passwordFor(context, fromStdin, `${protocol}:${username}`);
      if (password !== undefined) for (const key of keys) secrets[key] = password;
    } else if (fromStdin) {
      throw new UsageError(`Protocol ${protocol} has no password option`, context.command);
    }
    const alias = stringOption(parsed, 'alias');
    const account = await parley.accounts.add({
      protocol,
      username,
      settings,
      secrets,
      enabled: !flag(parsed, 'disabled'),
      ...(alias === undefined ? {} : { alias }),
    });
    const missing = await parley.accounts.missingRequired(account.id);
    if (flag(parsed, 'json')) printJson(context, { ...(await accountJson(parley, account)), missing });
    else print(context, `Added ${accountLabel(account)} (id ${account.id})`);
    if (missing.length > 0 && !flag(parsed, 'json')) {
      context.io.stderr.write(`Not set yet: ${missing.join(', ')} (parley accounts set ${account.id} ... [--password-stdin])\n`);
    }
    return EXIT.ok;
  });
}

export async function set(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, {
    alias: { type: 'string' },
    unset: { type: 'string', multiple: true },
    'password-stdin': { type: 'boolean' },
  });
  const [ref, ...pairs] = parsed.positionals;
  if (ref === undefined) throw new UsageError('Expected <account>', context.command);
  const fromStdin = flag(parsed, 'password-stdin');
  const unset = listOption(parsed, 'unset');
  const alias = stringOption(parsed, 'alias');
  if (pairs.length === 0 && unset.length === 0 && alias === undefined && !fromStdin) throw new UsageError('Nothing to change: give key=value, --unset, --alias or --password-stdin', context.command);
  return withParley(context, { history: false, stdinTaken: fromStdin }, async ({ parley }) => {
    const account = await parley.accounts.get(ref);
    const schema = (await parley.plugins.protocol(account.protocol))?.options ?? {};
    const settings: Record<string, string | null> = settingsFrom(context, schema, keyValues(pairs, context.command));
    for (const key of unset) settings[key] = null;
    const secrets: Record<string, string> = {};
    if (fromStdin) {
      const password = await passwordFor(context, true, accountLabel(account));
      for (const key of passwordKeys(schema)) secrets[key] = password!;
    }
    const updated = await parley.accounts.update(account.id, {
      ...(Object.keys(settings).length > 0 ? { settings } : {}),
      ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
      ...(alias === undefined ? {} : { alias }),
    });
    if (flag(parsed, 'json')) printJson(context, await accountJson(parley, updated));
    else print(context, `Updated ${accountLabel(updated)}`);
    return EXIT.ok;
  });
}

function oneAccount(context: CommandContext, extraOptions = {}) {
  const parsed = parseCommandArgs(context.command, context.args, extraOptions);
  const [ref, extra] = parsed.positionals;
  if (ref === undefined) throw new UsageError('Expected <account>', context.command);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  return { parsed, ref };
}

export async function remove(context: CommandContext): Promise<number> {
  const { parsed, ref } = oneAccount(context);
  return withParley(context, { history: false }, async ({ parley }) => {
    const account = await parley.accounts.get(ref);
    await parley.accounts.remove(account.id);
    if (flag(parsed, 'json')) printJson(context, { removed: account.id });
    else print(context, `Removed ${accountLabel(account)}`);
    return EXIT.ok;
  });
}

function enableOrDisable(enabled: boolean) {
  return async (context: CommandContext): Promise<number> => {
    const { parsed, ref } = oneAccount(context);
    return withParley(context, { history: false }, async ({ parley, owner }) => {
      const account = await parley.accounts.update(ref, { enabled });
      // A running owner applies it at once: an enabled account signs in, a disabled one signs off.
      if (owner !== undefined && !enabled) await parley.accounts.disconnect(account.id);
      if (owner !== undefined && enabled) {
        // Enabled whether or not it signs in now; a failure is the owner's to report (and retry).
        await parley.accounts.connect(account.id).catch((error: unknown) => {
          if (!ConnectionError.is(error)) throw error;
        });
      }
      if (flag(parsed, 'json')) printJson(context, await accountJson(parley, account));
      else print(context, `${enabled ? 'Enabled' : 'Disabled'} ${accountLabel(account)}`);
      return EXIT.ok;
    });
  };
}

export const enable = enableOrDisable(true);
export const disable = enableOrDisable(false);

/** Signs in once: exit 0 only when the account came online. */
export async function check(context: CommandContext): Promise<number> {
  const { parsed, ref } = oneAccount(context);
  const json = flag(parsed, 'json');
  return withParley(context, { history: false }, async ({ parley, local }) => {
    const account = await parley.accounts.get(ref);
    const label = accountLabel(account);
    // With an owner running this reports its state, and asks it to sign in only when it is not online.
    if (!json && context.io.stderr.isTTY === true) {
      parley.events.on('accountStatusChanged', (a, status) => {
        if (a.id === account.id && status.state === 'connecting' && status.progress !== undefined) context.io.stderr.write(`${status.progress.text}…\n`);
      });
    }
    if (local !== undefined) await applySavedStatus(local);
    try {
      if ((await parley.accounts.status(account.id)).state !== 'online') await parley.accounts.connect(account.id);
    } catch (raw) {
      // Anything but a sign-in failure (a locked secret store) is reported by main with its own exit code.
      if (!ConnectionError.is(raw)) throw raw;
      const error = raw;
      if (json) printJson(context, { account: account.id, label, online: false, error: connectionErrorJson(error) });
      else print(context, [`${label}: not signed in`, ...connectionErrorLines(error).map((l) => `  ${l}`)].join('\n'));
      return EXIT.signInFailed;
    }
    // How it connected, when the plugin says ("Kerberos, TLS").
    const detail = (await parley.accounts.status(account.id)).detail;
    if (json) printJson(context, { account: account.id, label, online: true, ...(detail !== undefined ? { detail } : {}) });
    else print(context, `${label}: online${detail !== undefined ? ` (${detail})` : ''}`);
    return EXIT.ok;
  });
}
