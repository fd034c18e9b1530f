import { resolve } from 'node:path';
import type { TransferInfo, TransferProgress } from '@parley/core';
import { formatBytes, formatDuration, formatRate } from '@parley/core/remote';
import { flag, parseCommandArgs, stringOption } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import type { CliOutput } from '../cli/io.js';
import { shownName } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, withParley, type CommandContext } from './context.js';
import { signInToSend } from './sign-in-to-send.js';

/** One line of progress: a bar when the size is known, then bytes, rate and time left. */
export function progressLine(progress: TransferProgress, width: number): string {
  const { bytes, size, rate, eta } = progress;
  const amount = size === undefined ? formatBytes(bytes) : `${formatBytes(bytes)} of ${formatBytes(size)}`;
  const tail = `${amount}  ${formatRate(rate)}${eta === undefined ? '' : `  ${formatDuration(eta)} left`}`;
  if (size === undefined || size === 0) return tail;
  const fraction = Math.min(1, bytes / size);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const barWidth = Math.max(10, Math.min(40, width - tail.length - percent.length - 4));
  const filled = Math.round(fraction * barWidth);
  return `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${percent} ${tail}`;
}

/** The last line: what went where, how big, how fast. */
export function finalLine(transfer: TransferInfo): string {
  const size = transfer.size ?? transfer.bytes;
  const seconds = ((transfer.endedAt ?? Date.now()) - transfer.startedAt) / 1000;
  const rate = seconds > 0 ? size / seconds : 0;
  const to = shownName(transfer.peer);
  switch (transfer.state) {
    case 'done':
      return `Sent ${transfer.name} to ${to}: ${formatBytes(size)} in ${formatDuration(seconds)}, ${formatRate(rate)}${transfer.url === undefined ? '' : ` (${transfer.url})`}`;
    case 'cancelled':
      return `Not sent: ${to} ${transfer.reason === 'declined' ? 'declined' : 'cancelled'} ${transfer.name}${transfer.cancelledBy === 'user' ? ' (cancelled here)' : ''}`;
    default:
      return `Not sent: ${transfer.name} to ${to} failed after ${formatBytes(transfer.bytes)}: ${transfer.error?.message ?? 'unknown error'}`;
  }
}

function clearLine(stream: CliOutput): void {
  stream.write('\r\x1b[2K');
}

export async function sendFile(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, { description: { type: 'string' } });
  const [ref, to, path, ...extra] = parsed.positionals;
  if (ref === undefined || to === undefined || path === undefined || extra.length > 0) throw new UsageError('Expected <account> <peer> <path>', context.command);
  const json = flag(parsed, 'json');
  const description = stringOption(parsed, 'description');
  // The core that reads the file may be another process with another working directory.
  const file = resolve(path);
  return withParley(context, { history: true }, async (session) => {
    const { parley } = session;
    const account = await signInToSend(context, session, ref, json);
    if (typeof account === 'number') return account;
    const tty = !json && context.io.stdout.isTTY === true;
    let id: string | undefined;
    let drawn = false;
    // Progress can arrive before send() answers: the latest is kept until the id is known.
    const latest = new Map<string, TransferProgress>();
    const draw = (progress: TransferProgress) => {
      if (!tty) return;
      clearLine(context.io.stdout);
      context.io.stdout.write(progressLine(progress, context.io.stdout.columns ?? 80));
      drawn = true;
    };
    const onProgress = (transfer: TransferInfo, progress: TransferProgress) => {
      if (id === undefined) latest.set(transfer.id, progress);
      else if (transfer.id === id) draw(progress);
    };
    parley.events.on('transferProgress', onProgress);
    const interrupted = () => {
      if (id !== undefined) void parley.transfers.cancel(id).catch(() => undefined);
    };
    process.once('SIGINT', interrupted);
    try {
      const started = await parley.transfers.send(account.id, to, file, description === undefined ? undefined : { description });
      id = started.id;
      const early = latest.get(id);
      if (early !== undefined) draw(early);
      if (tty && !drawn) {
        context.io.stdout.write(`Waiting for ${shownName(to)} to accept ${started.name} (${formatBytes(started.size ?? 0)})…`);
        drawn = true;
      }
      const ended = await parley.transfers.settled(id);
      if (drawn) clearLine(context.io.stdout);
      if (json) printJson(context, { sent: ended.state === 'done', account: account.id, to, transfer: ended });
      else if (ended.state === 'done') print(context, finalLine(ended));
      else context.io.stderr.write(`${finalLine(ended)}\n`);
      return ended.state === 'done' ? EXIT.ok : EXIT.sendFailed;
    } finally {
      process.off('SIGINT', interrupted);
      parley.events.off('transferProgress', onProgress);
    }
  });
}
