import type { Parley, ParleyClient, RemoteParley } from '@parley/core';
import { RemoteError } from '@parley/core/remote';
import { openCore } from '../cli/core.js';
import { attachOrElect } from '../cli/election.js';
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

/** What a command talks to: the home's running owner, or a core of its own for this one command. */
export interface Session {
  parley: ParleyClient;
  /** Set when the command is a client of a running owner. */
  owner: RemoteParley | undefined;
  /** Set when the command runs its own core. */
  local: Parley | undefined;
}

/**
 * Runs a command against the process that owns the home when one runs (its
 * accounts stay signed in; nothing signs in a second time), else against a
 * core of its own, started and stopped around the command. While it runs its
 * own core it holds the home, so another invocation waits for it instead of
 * signing the same accounts in beside it.
 */
export async function withParley<T>(context: CommandContext, options: { history: boolean; stdinTaken?: boolean }, run: (session: Session) => Promise<T>): Promise<T> {
  const election = await attachOrElect({ env: context.io.env, clientName: `parley ${context.command}` });
  if (election.role === 'client') {
    const owner = election.client;
    try {
      return await untilOwnerStops(owner, run({ parley: owner, owner, local: undefined }));
    } finally {
      // Every answer is in: the command ends now, without waiting for the owner to
      // close its side too (the process exits right after, and the owner sees it go).
      void owner.close();
    }
  }
  try {
    const { inProcessClient } = await import('@parley/core');
    return await withCore(context, options, (parley) => run({ parley: inProcessClient(parley), owner: undefined, local: parley }));
  } finally {
    await election.claim.release();
  }
}

/** The command's outcome, or the RemoteError `core-stopped` if the owner goes away first. */
export async function untilOwnerStops<T>(owner: RemoteParley, work: Promise<T>): Promise<T> {
  const stopped = owner.disconnected.then((d) => {
    if (!d.byClient) throw new RemoteError('core-stopped', 'The Parley core stopped');
    return new Promise<never>(() => {});
  });
  return Promise.race([work, stopped]);
}
