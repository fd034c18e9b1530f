import { readFileSync } from 'node:fs';
import { EXIT } from './exit-codes.js';
import { HELP, helpFor } from './help.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';
import type { CommandContext, CommandRun } from '../commands/context.js';

/** Each command's module is imported only when it runs: `--help` and `--version` load nothing. */
const COMMANDS: Record<string, () => Promise<CommandRun>> = {
  'accounts list': async () => (await import('../commands/accounts.js')).list,
  'accounts add': async () => (await import('../commands/accounts.js')).add,
  'accounts set': async () => (await import('../commands/accounts.js')).set,
  'accounts remove': async () => (await import('../commands/accounts.js')).remove,
  'accounts enable': async () => (await import('../commands/accounts.js')).enable,
  'accounts disable': async () => (await import('../commands/accounts.js')).disable,
  'accounts check': async () => (await import('../commands/accounts.js')).check,
  'plugins list': async () => (await import('../commands/plugins.js')).list,
  send: async () => (await import('../commands/send.js')).send,
  'send-file': async () => (await import('../commands/send-file.js')).sendFile,
  status: async () => (await import('../commands/status.js')).status,
  'log search': async () => (await import('../commands/log.js')).search,
  watch: async () => (await import('../commands/watch.js')).watch,
  'buddies list': async () => (await import('../commands/buddies.js')).list,
  'buddies add': async () => (await import('../commands/buddies.js')).add,
  'buddies remove': async () => (await import('../commands/buddies.js')).remove,
  'buddies move': async () => (await import('../commands/buddies.js')).move,
  'buddies alias': async () => (await import('../commands/buddies.js')).alias,
  'config get': async () => (await import('../commands/config.js')).get,
  'config set': async () => (await import('../commands/config.js')).set,
  daemon: async () => (await import('../commands/daemon.js')).daemon,
  'daemon status': async () => (await import('../commands/daemon.js')).status,
  'daemon stop': async () => (await import('../commands/daemon.js')).stop,
};

const GROUPS = new Set(['accounts', 'plugins', 'log', 'buddies', 'config']);

/** This package's version, as `parley --version` prints it. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Finds the command words at the start of argv: ["accounts", "add", ...] → "accounts add". */
function commandOf(argv: readonly string[]): { command: string; args: string[] } {
  const [first, second] = argv;
  // `parley daemon` runs the daemon; `parley daemon status|stop` talk to it.
  if (first === 'daemon') return second === 'status' || second === 'stop' ? { command: `daemon ${second}`, args: argv.slice(2) } : { command: 'daemon', args: argv.slice(1) };
  if (first !== undefined && GROUPS.has(first)) {
    if (second === undefined || second.startsWith('-')) return { command: first, args: argv.slice(1) };
    return { command: `${first} ${second}`, args: argv.slice(2) };
  }
  return { command: first ?? '', args: argv.slice(1) };
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
  command?: unknown;
  hint?: unknown;
  serverText?: unknown;
}

/** The exit code an error means (see EXIT). Errors are told apart by their stable `code`. */
export function exitCodeFor(error: unknown): number {
  const code = (error as ErrorLike | null)?.code;
  // By code, not class: the interactive client is loaded apart from the bundled command line (see scripts/bundle.mjs).
  if (code === 'usage') return EXIT.usage;
  if (typeof code !== 'string') return EXIT.failure;
  if (['unknown-account', 'unknown-protocol', 'invalid-settings', 'duplicate-account', 'invalid-config', 'plugin-not-found', 'plugin-incompatible'].includes(code)) return EXIT.config;
  if (['wrong-passphrase', 'passphrase-required', 'secret-store-corrupt', 'secret-store-unavailable'].includes(code)) return EXIT.secrets;
  if (code.startsWith('connection-')) return EXIT.signInFailed;
  if (code === 'core-stopped') return EXIT.coreStopped;
  if (code === 'owner-exists') return EXIT.ownerExists;
  if (['send-failed', 'send-timeout', 'no-route', 'not-supported'].includes(code) || code.startsWith('transfer-')) return EXIT.sendFailed;
  // A name or address the protocol refused is a wrong argument: nothing was sent.
  if (code === 'invalid-address' || code.endsWith('-invalid-address')) return EXIT.usage;
  return EXIT.failure;
}

function report(io: CliIo, error: unknown, command: string): void {
  const e = error as ErrorLike | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const lines = [`parley: ${message}`];
  if (typeof e?.serverText === 'string' && !message.includes(e.serverText)) lines.push(`server said: ${e.serverText}`);
  if (typeof e?.hint === 'string') lines.push(`hint: ${e.hint}`);
  if (e?.code === 'usage') lines.push(`Run "${['parley', typeof e.command === 'string' ? e.command : command, '--help'].filter((w) => w !== '').join(' ')}" for usage.`);
  if (exitCodeFor(error) === EXIT.failure && io.env.PARLEY_DEBUG !== undefined && error instanceof Error && error.stack !== undefined) lines.push(error.stack);
  io.stderr.write(`${lines.join('\n')}\n`);
}

/** Runs `parley` with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const { command, args } = commandOf(argv);
  try {
    if (command === '--version' || command === '-V') {
      io.stdout.write(`parley ${version()}\n`);
      return EXIT.ok;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(`${helpFor(args.join(' '))}\n`);
      return EXIT.ok;
    }
    if (command === '') {
      const { runInteractive } = await import('../tui/run.js');
      return await runInteractive(io);
    }
    if (args.includes('--help') || args.includes('-h') || (GROUPS.has(command) && HELP[command] !== undefined)) {
      const known = HELP[command] !== undefined;
      io.stdout.write(`${helpFor(command)}\n`);
      return known && (args.includes('--help') || args.includes('-h')) ? EXIT.ok : EXIT.usage;
    }
    const load = COMMANDS[command];
    if (load === undefined) throw new UsageError(`Unknown command "${command}"`, '');
    const run = await load();
    const context: CommandContext = { io, command, args };
    return await run(context);
  } catch (error) {
    report(io, error, command);
    return exitCodeFor(error);
  }
}
