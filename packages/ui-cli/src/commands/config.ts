import { flag, parseCommandArgs } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { readPasswordFromStdin } from '../cli/prompt.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';

/** The global settings this command knows; each is read and written through the core's settings API. */
const KEYS = ['proxy'] as const;

function keyOf(context: CommandContext, key: string | undefined): (typeof KEYS)[number] {
  if (key === undefined) throw new UsageError('Expected a setting name: proxy', context.command);
  if (!(KEYS as readonly string[]).includes(key)) throw new UsageError(`Unknown setting "${key}": the settings are ${KEYS.join(', ')}`, context.command);
  return key as (typeof KEYS)[number];
}

function describe(view: { value: string; source: string; passwordStored: boolean }): string {
  const notes = [view.passwordStored ? 'password in the secret store' : '', view.source === 'embedder' ? 'fixed by the program running Parley' : view.source === 'unset' ? 'not set' : ''].filter((n) => n !== '');
  return `proxy: ${view.value}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
}

export async function get(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const [key, extra] = parsed.positionals;
  keyOf(context, key);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  return withParley(context, { history: false }, async ({ parley }) => {
    const view = await parley.settings.proxy();
    if (flag(parsed, 'json')) printJson(context, { proxy: view });
    else print(context, describe(view));
    return EXIT.ok;
  });
}

export async function set(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, { 'password-stdin': { type: 'boolean' } });
  const [key, value, extra] = parsed.positionals;
  keyOf(context, key);
  if (value === undefined) throw new UsageError('Expected a value: none, env or a proxy URL (socks5://, socks5h://, socks4://, http://)', context.command);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"`, context.command);
  const fromStdin = flag(parsed, 'password-stdin');
  let password: string | undefined;
  if (fromStdin) {
    password = await readPasswordFromStdin(context.io.stdin);
    if (password === '') throw new UsageError('--password-stdin: stdin held no password', context.command);
  }
  return withParley(context, { history: false, stdinTaken: fromStdin }, async ({ parley }) => {
    const view = await parley.settings.setProxy(value, password);
    if (flag(parsed, 'json')) printJson(context, { proxy: view });
    else print(context, describe(view));
    return EXIT.ok;
  });
}
