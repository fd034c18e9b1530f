import type { AccountInfo } from '@parley/core';
import { ConnectionError } from '@parley/core/remote';
import { EXIT } from '../cli/exit-codes.js';
import { accountLabel, connectionErrorJson, connectionErrorLines } from '../cli/format.js';
import { printJson, type CommandContext, type Session } from './context.js';
import { applySavedStatus } from './saved-status.js';

/**
 * Signs `ref`'s account in for a one-shot send (`parley send`, `parley
 * send-file`). A running owner has signed on with its status already; a core
 * of our own signs on with the saved one. Resolves to the account, or to
 * `EXIT.signInFailed` after saying why sign-in failed (a `sent: false` JSON
 * line with `json`, else lines on stderr). Errors that are not about the
 * connection are thrown.
 */
export async function signInToSend(context: CommandContext, { parley, local }: Session, ref: string, json: boolean): Promise<AccountInfo | number> {
  // A running owner is asked both at once (one round trip, not two): connect takes the same
  // reference get does, and an unknown account fails both with the same error. A core of our
  // own first takes the saved status, so it signs on with it.
  const connecting = local === undefined ? parley.accounts.connect(ref) : undefined;
  connecting?.catch(() => undefined); // Handled below, once the account is known.
  const account = await parley.accounts.get(ref);
  if (local !== undefined) await applySavedStatus(local);
  try {
    await (connecting ?? parley.accounts.connect(account.id));
    return account;
  } catch (raw) {
    if (!ConnectionError.is(raw)) throw raw;
    if (json) printJson(context, { sent: false, account: account.id, error: connectionErrorJson(raw) });
    else context.io.stderr.write(`${[`${accountLabel(account)}: not signed in`, ...connectionErrorLines(raw).map((l) => `  ${l}`)].join('\n')}\n`);
    return EXIT.signInFailed;
  }
}
