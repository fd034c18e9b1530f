import type { AccountInfo, ConversationInfo, Message, ParleyClient, TransferInfo, TransferProgress } from '@parley/core';
import { formatBytes, formatRate } from '@parley/core/remote';
import { openCore } from '../cli/core.js';
import { attachOrElect } from '../cli/election.js';
import { TerminalUi } from '../cli/terminal-ui.js';
import { flag, listOption, parseCommandArgs, positiveInteger, seconds } from '../cli/args.js';
import { EXIT } from '../cli/exit-codes.js';
import { accountLabel, clock, connectionErrorJson, connectionErrorLines, messageLine, statusText } from '../cli/format.js';
import { UsageError } from '../cli/usage-error.js';
import { untilOwnerStops, type CommandContext } from './context.js';
import { applySavedStatus } from './saved-status.js';

export const WATCH_TYPES = ['message', 'system', 'presence', 'typing', 'account', 'chat', 'error', 'authorization', 'transfer'] as const;
export type WatchType = (typeof WATCH_TYPES)[number];

export interface WatchEvent {
  type: WatchType;
  time: number;
  account: string;
  accountLabel: string;
  [key: string]: unknown;
}

/**
 * Turns the core's events into one line (or one JSON object) each, for the
 * accounts being watched. Returns a function that unsubscribes.
 */
export function followEvents(parley: Pick<ParleyClient, 'events'>, accounts: readonly AccountInfo[], emit: (event: WatchEvent, text: string) => void): () => void {
  const watched = new Set(accounts.map((a) => a.id));
  const labels = new Map(accounts.map((a) => [a.id, accountLabel(a)]));
  const label = (accountId: string) => labels.get(accountId) ?? accountId;
  const base = (type: WatchType, accountId: string): WatchEvent => ({ type, time: Date.now(), account: accountId, accountLabel: label(accountId) });
  const where = (c: ConversationInfo) => (c.kind === 'chat' ? c.name : c.name);
  const message = (m: Message, c: ConversationInfo): void => {
    if (!watched.has(c.accountId)) return;
    const event: WatchEvent = {
      ...base(m.flags.system === true ? (m.flags.error === true ? 'error' : 'system') : 'message', c.accountId),
      time: m.timestamp,
      conversation: { kind: c.kind, name: c.name },
      direction: m.direction,
      sender: m.sender,
      ...(m.senderAlias === undefined ? {} : { senderAlias: m.senderAlias }),
      text: m.text,
      flags: m.flags,
      id: m.id,
    };
    emit(event, `[${clock(m.timestamp)}] ${event.accountLabel} ${where(c)} ${m.direction === 'outgoing' && m.flags.system !== true ? '→ ' : ''}${messageLine(m)}`);
  };
  const listeners: Array<() => void> = [];
  const on = <A extends unknown[]>(name: string, fn: (...args: A) => void) => {
    parley.events.on(name as never, fn as never);
    listeners.push(() => parley.events.off(name as never, fn as never));
  };
  on('messageReceived', message);
  on('messageSent', message);
  on('messageWritten', (m: Message, c: ConversationInfo) => {
    if (m.flags.system === true) message(m, c);
  });
  on('messageFailed', (m: Message, c: ConversationInfo, error: { code: string; message: string }) => {
    if (!watched.has(c.accountId)) return;
    emit({ ...base('error', c.accountId), conversation: { kind: c.kind, name: c.name }, code: error.code, message: error.message, text: m.text }, `[${clock(Date.now())}] ${label(c.accountId)} ${c.name} not sent: ${error.message}`);
  });
  on('buddyPresenceChanged', (accountId: string, buddy: string, presence: { status: string; message?: string }) => {
    if (!watched.has(accountId)) return;
    emit(
      { ...base('presence', accountId), buddy, status: presence.status, ...(presence.message === undefined ? {} : { message: presence.message }) },
      `[${clock(Date.now())}] ${label(accountId)} ${buddy} is ${presence.status}${presence.message === undefined ? '' : `: ${presence.message}`}`,
    );
  });
  on('typingChanged', (c: ConversationInfo, peer: string, state: string) => {
    if (!watched.has(c.accountId)) return;
    emit({ ...base('typing', c.accountId), peer, state, conversation: { kind: c.kind, name: c.name } }, `[${clock(Date.now())}] ${label(c.accountId)} ${peer} ${state === 'typing' ? 'is typing' : state === 'paused' ? 'stopped typing' : 'is idle'}`);
  });
  // A group chat's typing is per participant: the participant is `peer`, the room the conversation.
  on('chatTypingChanged', (c: ConversationInfo, participant: string, state: string) => {
    if (!watched.has(c.accountId)) return;
    emit(
      { ...base('typing', c.accountId), peer: participant, state, conversation: { kind: c.kind, name: c.name } },
      `[${clock(Date.now())}] ${label(c.accountId)} ${c.name} ${participant} ${state === 'typing' ? 'is typing' : state === 'paused' ? 'stopped typing' : 'is idle'}`,
    );
  });
  on('accountStatusChanged', (account: AccountInfo, status: Parameters<typeof statusText>[0]) => {
    if (!watched.has(account.id)) return;
    const event: WatchEvent = { ...base('account', account.id), state: status.state };
    if (status.progress !== undefined) event.progress = status.progress;
    if (status.nextAttemptAt !== undefined) event.nextAttemptAt = status.nextAttemptAt;
    if (status.error !== undefined) event.error = connectionErrorJson(status.error);
    const lines = [`[${clock(Date.now())}] ${accountLabel(account)} ${statusText(status)}`];
    if (status.state === 'error' && status.error !== undefined) lines.push(...connectionErrorLines(status.error).slice(1).map((l) => `  ${l}`));
    emit(event, lines.join('\n'));
  });
  on('chatJoined', (c: ConversationInfo) => {
    if (watched.has(c.accountId)) emit({ ...base('chat', c.accountId), event: 'joined', room: c.name }, `[${clock(Date.now())}] ${label(c.accountId)} joined ${c.name}`);
  });
  on('chatLeft', (c: ConversationInfo, reason: string | undefined) => {
    if (watched.has(c.accountId)) emit({ ...base('chat', c.accountId), event: 'left', room: c.name, ...(reason === undefined ? {} : { reason }) }, `[${clock(Date.now())}] ${label(c.accountId)} left ${c.name}${reason === undefined ? '' : ` (${reason})`}`);
  });
  on('conversationTopicChanged', (c: ConversationInfo, topic: string, setBy: string | undefined) => {
    if (watched.has(c.accountId)) emit({ ...base('chat', c.accountId), event: 'topic', room: c.name, topic, ...(setBy === undefined ? {} : { setBy }) }, `[${clock(Date.now())}] ${label(c.accountId)} ${c.name} topic: ${topic}`);
  });
  on('authorizationRequested', (accountId: string, from: string) => {
    if (watched.has(accountId)) emit({ ...base('authorization', accountId), from }, `[${clock(Date.now())}] ${label(accountId)} ${from} asks to add you to their buddy list`);
  });
  const transfer = (event: 'added' | 'changed' | 'progress', t: TransferInfo, progress?: TransferProgress): void => {
    if (!watched.has(t.accountId)) return;
    const json: WatchEvent = { ...base('transfer', t.accountId), event, transfer: t };
    if (progress !== undefined) json.progress = progress;
    // Progress is for programs (--json); as text it would flood the terminal.
    emit(json, event === 'progress' ? '' : `[${clock(Date.now())}] ${label(t.accountId)} ${transferText(event, t, progress)}`);
  };
  on('transferAdded', (t: TransferInfo) => transfer('added', t));
  on('transferChanged', (t: TransferInfo) => transfer('changed', t));
  on('transferProgress', (t: TransferInfo, p: TransferProgress) => transfer('progress', t, p));
  return () => listeners.forEach((off) => off());
}

/** A transfer event as one line of text. */
function transferText(event: 'added' | 'changed' | 'progress', t: TransferInfo, progress: TransferProgress | undefined): string {
  const size = t.size === undefined ? '' : ` (${formatBytes(t.size)})`;
  const way = t.direction === 'incoming' ? `${t.name} from ${t.peer}` : `${t.name} to ${t.peer}`;
  if (event === 'progress' && progress !== undefined) return `${way}: ${formatBytes(progress.bytes)}${progress.size === undefined ? '' : ` of ${formatBytes(progress.size)}`}, ${formatRate(progress.rate)}`;
  if (event === 'added') return t.direction === 'incoming' ? `${t.peer} offers ${t.name}${size}${t.state === 'failed' ? `: refused, ${t.error?.message ?? ''}` : ''}` : `sending ${way}${size}`;
  switch (t.state) {
    case 'done':
      return `${way}: done${t.path === undefined || t.direction === 'outgoing' ? '' : `, saved as ${t.path}`}`;
    case 'failed':
      return `${way}: failed, ${t.error?.message ?? 'unknown error'}`;
    case 'cancelled':
      return `${way}: ${t.reason === 'declined' ? 'declined' : 'cancelled'} by ${t.cancelledBy === 'peer' ? t.peer : 'you'}`;
    default:
      return `${way}: ${t.state}`;
  }
}

export async function watch(context: CommandContext): Promise<number> {
  const parsed = parseCommandArgs(context.command, context.args, {
    count: { type: 'string' },
    timeout: { type: 'string' },
    only: { type: 'string', multiple: true },
  });
  const count = positiveInteger(parsed, 'count', context.command);
  const timeout = seconds(parsed, 'timeout', context.command);
  const only = new Set(listOption(parsed, 'only').flatMap((o) => o.split(',')).map((o) => o.trim()).filter((o) => o !== ''));
  for (const type of only) if (!(WATCH_TYPES as readonly string[]).includes(type)) throw new UsageError(`--only: unknown type "${type}" (types: ${WATCH_TYPES.join(', ')})`, context.command);
  const json = flag(parsed, 'json');

  const election = await attachOrElect({ env: context.io.env, clientName: 'parley watch' });
  const options = { json, only, count, timeout };
  if (election.role === 'client') {
    // Another process owns the accounts: watch through it, asking it to sign in those that are not online.
    const owner = election.client;
    try {
      return await untilOwnerStops(owner, watchWith(context, owner, parsed.positionals, options, () => {}));
    } finally {
      await owner.close();
    }
  }
  // No owner runs: this watch owns the home while it runs, and other invocations become its clients.
  const { inProcessClient, UiRelay } = await import('@parley/core');
  const relay = new UiRelay(new TerminalUi(context.io, context.io.stdin.isTTY === true));
  let stopRequested = () => {};
  try {
    const local = await openCore(context.io, { ui: relay, history: true });
    try {
      await election.claim.serve(local, { kind: 'watch', relay, onStopRequested: () => stopRequested() });
      await applySavedStatus(local);
      return await watchWith(context, inProcessClient(local), parsed.positionals, options, (stop) => (stopRequested = stop));
    } finally {
      await local.shutdown();
    }
  } finally {
    await election.claim.release();
  }
}

interface WatchOptions {
  json: boolean;
  only: ReadonlySet<string>;
  count: number | undefined;
  timeout: number | undefined;
}

async function watchWith(context: CommandContext, parley: ParleyClient, refs: readonly string[], options: WatchOptions, onStop: (stop: () => void) => void): Promise<number> {
  const { json, only, count, timeout } = options;
  const accounts = refs.length > 0 ? await Promise.all(refs.map((ref) => parley.accounts.get(ref))) : (await parley.accounts.list()).filter((a) => a.enabled);
  if (accounts.length === 0) {
    context.io.stderr.write('No enabled accounts to watch. Add one with: parley accounts add <protocol> <username>\n');
    return EXIT.config;
  }
  let printed = 0;
  let done = false;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    finish = (code) => {
      // Signing off afterwards is not news: nothing is printed once the watch is over.
      done = true;
      resolve(code);
    };
  });
  onStop(() => finish(EXIT.ok));

  const show = (event: WatchEvent, text: string) => {
    if (done || (only.size > 0 && !only.has(event.type)) || (!json && text === '')) return;
    context.io.stdout.write(`${json ? JSON.stringify(event) : text}\n`);
    printed++;
    if (count !== undefined && printed >= count) finish(EXIT.ok);
  };
  const unfollow = followEvents(parley, accounts, show);
  const timer = timeout === undefined ? undefined : setTimeout(() => finish(count === undefined ? EXIT.ok : EXIT.timeout), timeout * 1000);
  const interrupted = () => finish(EXIT.ok);
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const states = new Map<string, string>();
    const ids = new Set(accounts.map((a) => a.id));
    // Nothing to watch when every account failed for good (a retrying one may still come back).
    const anyAlive = () => accounts.some((a) => states.get(a.id) !== 'error');
    let signedOn = false;
    parley.events.on('accountStatusChanged', (account, status) => {
      if (!ids.has(account.id)) return;
      states.set(account.id, status.state);
      if (signedOn && !anyAlive()) finish(EXIT.signInFailed);
    });
    const results = await Promise.all(
      accounts.map(async (a) => {
        if ((await parley.accounts.status(a.id)).state === 'online') {
          // Already signed in by the running owner: say so, as a watch that signed it in would have.
          show({ type: 'account', time: Date.now(), account: a.id, accountLabel: accountLabel(a), state: 'online' }, `[${clock(Date.now())}] ${accountLabel(a)} online`);
          return true;
        }
        return parley.accounts.connect(a.id).then(
          () => true,
          () => false,
        );
      }),
    );
    for (const a of accounts) states.set(a.id, (await parley.accounts.status(a.id)).state);
    signedOn = true;
    if (!results.some(Boolean) && !anyAlive()) finish(EXIT.signInFailed);
    return await finished;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    unfollow();
  }
}
