import type { Presence } from '@parley/core';
import { connectToParley, RemoteError, STATUS_PRIMITIVES, isStatusPrimitive, resolvePaths } from '@parley/core/remote';
import { flag, parseCommandArgs } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, type CommandContext } from './context.js';
import { readSavedStatus, writeSavedStatus } from './saved-status.js';

const SETTABLE = STATUS_PRIMITIVES.filter((s) => s !== 'offline');

export async function status(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const [wanted, ...words] = parsed.positionals;
  const config = resolvePaths(context.io.env).config;
  let presence: Presence;
  if (wanted === undefined) {
    presence = readSavedStatus(config);
  } else {
    if (!isStatusPrimitive(wanted) || wanted === 'offline') throw new UsageError(`Status must be one of ${SETTABLE.join(', ')}; not "${wanted}"`, context.command);
    const message = words.join(' ');
    presence = message === '' ? { status: wanted } : { status: wanted, message };
    writeSavedStatus(config, presence);
    await applyToRunningOwner(context, presence);
  }
  if (flag(parsed, 'json')) printJson(context, presence);
  else print(context, `${presence.status}${presence.message === undefined ? '' : `: ${presence.message}`}`);
  return EXIT.ok;
}

/** A running owner takes the new status at once; without one it is used at the next sign-on. */
async function applyToRunningOwner(context: CommandContext, presence: Presence): Promise<void> {
  let owner;
  try {
    owner = await connectToParley({ env: context.io.env, clientName: 'parley status' });
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'owner-not-running') return;
    throw error;
  }
  try {
    await owner.presence.set(presence);
  } finally {
    await owner.close();
  }
}
