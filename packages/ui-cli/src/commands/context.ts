import type { Parley } from '@parley/core';
import { openCore } from '../cli/core.js';
import type { CliIo } from '../cli/io.js';
import { TerminalUi } from '../cli/terminal-ui.js';

export interface CommandContext {
  io: CliIo;
  /** The command's words: "accounts add". */
  command: string;
  /** What follows the command's words. */
  args: string[];
}

export type CommandRun = (context: CommandContext) => Promise<number>;

/** Opens the core for one command and always shuts it down, so nothing stays connected. */
export async function withCore<T>(context: CommandContext, options: { history: boolean; stdinTaken?: boolean }, run: (parley: Parley) => Promise<T>): Promise<T> {
  const canAsk = options.stdinTaken !== true && context.io.stdin.isTTY === true;
  const parley = await openCore(context.io, { ui: new TerminalUi(context.io, canAsk), history: options.history });
  try {
    return await run(parley);
  } finally {
    await parley.shutdown();
  }
}

export function printJson(context: CommandContext, value: unknown): void {
  context.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(context: CommandContext, text: string): void {
  if (text !== '') context.io.stdout.write(`${text}\n`);
}
