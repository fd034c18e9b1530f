import type { LogRecord, OwnerStatus } from '@parley/core';
import { connectToParley, RemoteError } from '@parley/core/remote';
import { flag, parseCommandArgs } from '../cli/args.js';
import { openCore } from '../cli/core.js';
import { attachOrElect } from '../cli/election.js';
import { EXIT } from '../cli/exit-codes.js';
import { accountLabel, statusText, table } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { print, printJson, type CommandContext } from './context.js';
import { applySavedStatus } from './saved-status.js';

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/** Log lines on stderr: `time level scope: message {data}`, or one JSON object per line with --json. */
function daemonLog(context: CommandContext, json: boolean): (record: LogRecord) => void {
  const wanted = context.io.env.PARLEY_DEBUG !== undefined ? 'debug' : (context.io.env.PARLEY_LOG ?? 'info');
  const threshold = LEVELS[wanted as keyof typeof LEVELS] ?? LEVELS.info;
  return (record) => {
    if (LEVELS[record.level] < threshold) return;
    if (json) {
      context.io.stderr.write(`${JSON.stringify({ time: new Date(record.time).toISOString(), level: record.level, scope: record.scope, message: record.message, ...(record.data === undefined ? {} : { data: record.data }) })}\n`);
    } else {
      context.io.stderr.write(`${new Date(record.time).toISOString()} ${record.level} ${record.scope}: ${record.message}${record.data === undefined ? '' : ` ${JSON.stringify(record.data)}`}\n`);
    }
  };
}

/**
 * `parley daemon`: owns the home with no screen. Signs the enabled accounts
 * in, serves every other parley invocation (and any JSON-RPC client) on the
 * home's socket, and stops cleanly on SIGTERM, SIGINT or `parley daemon stop`.
 */
export async function daemon(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  if (parsed.positionals.length > 0) throw new UsageError(`Unknown daemon command "${parsed.positionals[0]}" (status, stop)`, context.command);
  const log = daemonLog(context, flag(parsed, 'json'));
  const note = (level: LogRecord['level'], message: string, data?: Record<string, unknown>) => log({ level, scope: 'parley:daemon', message, time: Date.now(), ...(data === undefined ? {} : { data }) });
  const election = await attachOrElect({ env: context.io.env, clientName: 'parley daemon' });
  if (election.role === 'client') {
    const owner = election.client.owner;
    await election.client.close();
    context.io.stderr.write(`parley: this home is already owned by pid ${owner.pid} (${owner.kind}); "parley daemon status" shows it\n`);
    return EXIT.ownerExists;
  }
  const claim = election.claim;
  const { UiRelay } = await import('@parley/core');
  let stop: (why: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  // A promise some plugin forgot to handle must not take every account and client down with it.
  const onStray = (reason: unknown) => note('error', 'unhandled error (the core keeps running)', { error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason) });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', onStray);
  try {
    // No screen: the core's questions go to a client attached as UI, or are declined.
    const relay = new UiRelay(undefined);
    const parley = await openCore(context.io, { ui: relay, history: true, log });
    try {
      parley.events.on('accountStatusChanged', (account, status) => {
        const data: Record<string, unknown> = { account: account.id, state: status.state };
        if (status.error !== undefined) Object.assign(data, { code: status.error.code, error: status.error.message });
        if (status.nextAttemptAt !== undefined) data.nextAttemptAt = new Date(status.nextAttemptAt).toISOString();
        note(status.state === 'error' ? 'warn' : 'info', `${accountLabel(account)} ${statusText(status)}`, data);
      });
      await claim.serve(parley, { kind: 'daemon', relay, onStopRequested: () => stop('stop requested') });
      note('info', `serving ${claim.files.socket}`, { pid: process.pid });
      await applySavedStatus(parley);
      void parley.accounts.connectEnabled();
      const why = await stopped;
      note('info', `stopping (${why}): signing accounts off`);
    } finally {
      await parley.shutdown();
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('unhandledRejection', onStray);
    await claim.release();
  }
  note('info', 'stopped');
  return EXIT.ok;
}

async function ownerOrNone(context: CommandContext) {
  try {
    return await connectToParley({ env: context.io.env, clientName: `parley ${context.command}` });
  } catch (error) {
    if (error instanceof RemoteError && error.code === 'owner-not-running') return undefined;
    throw error;
  }
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `parley daemon status`: the owner's pid, uptime and accounts; exits 1 when no core runs. */
export async function status(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args);
  const owner = await ownerOrNone(context);
  if (owner === undefined) {
    if (flag(parsed, 'json')) printJson(context, { running: false });
    else print(context, 'No Parley core is running for this home.');
    return EXIT.notFound;
  }
  let info: OwnerStatus;
  try {
    info = await owner.status();
  } finally {
    await owner.close();
  }
  if (flag(parsed, 'json')) {
    printJson(context, { running: true, ...info });
    return EXIT.ok;
  }
  print(context, `Running: pid ${info.pid} (${info.kind}), up ${duration(info.uptimeMs)}, core ${info.coreVersion}, protocol ${info.protocolVersion}, ${info.clients - 1} other client${info.clients - 1 === 1 ? '' : 's'}`);
  if (info.accounts.length > 0) {
    print(context, table(['ID', 'ACCOUNT', 'ENABLED', 'STATE'], info.accounts.map((a) => [a.id, accountLabel(a), a.enabled ? 'yes' : 'no', a.error === undefined ? a.state : `${a.state}: ${a.error.message}`])));
  }
  return EXIT.ok;
}

/** `parley daemon stop`: asks the owner to stop and waits until it has; exits 1 when no core runs. */
export async function stop(context: CommandContext): Promise<number> {
  parseCommandArgs(context.command, context.args);
  const owner = await ownerOrNone(context);
  if (owner === undefined) {
    print(context, 'No Parley core is running for this home.');
    return EXIT.notFound;
  }
  const pid = owner.owner.pid;
  await owner.stopOwner();
  // The owner closes the connection once its accounts are signed off and its history is flushed.
  await owner.disconnected;
  print(context, `Stopped the Parley core (pid ${pid}).`);
  return EXIT.ok;
}
