import type { AccountInfo, AccountStatus, ConnectionError, HistoryEntry, Message } from '@parley/core';

export function accountLabel(account: Pick<AccountInfo, 'protocol' | 'username'>): string {
  return `${account.protocol}:${account.username}`;
}

/**
 * A name the user typed, for one line of output: as it is when it is plain
 * text, quoted with its control characters escaped when it is not, so a
 * line break in it cannot start a line of its own.
 */
export function shownName(value: string): string {
  return /[\x00-\x1f\x7f]/.test(value) ? JSON.stringify(value) : value;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function timestamp(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clock(ms: number): string {
  return timestamp(ms).slice(11, 16);
}

/** A message as one line: `<bob> hi`, `* bob waves`, `-- system text`. */
export function messageLine(message: Pick<Message, 'sender' | 'senderAlias' | 'text' | 'flags'>): string {
  const who = message.senderAlias ?? message.sender;
  if (message.flags.system === true) return `-- ${message.text}`;
  if (message.flags.action === true) return `* ${who} ${message.text}`;
  if (message.flags.notice === true) return `-${who}- ${message.text}`;
  return `<${who}> ${message.text}`;
}

export function historyLine(entry: HistoryEntry, account: string): string {
  return `${timestamp(entry.timestamp)}  ${account}  ${entry.peer}  ${messageLine(entry)}`;
}

/** A connection error as the user must see it: the server's own words verbatim, then the hint. */
export function connectionErrorLines(error: ConnectionError): string[] {
  const lines = [`${error.message} (${error.reason})`];
  if (error.serverText !== undefined) lines.push(`server said: ${error.serverText}`);
  if (error.protocolDetail !== undefined) lines.push(`detail: ${String(error.protocolDetail)}`);
  if (error.hint !== undefined) lines.push(`hint: ${error.hint}`);
  return lines;
}

export function connectionErrorJson(error: ConnectionError): Record<string, unknown> {
  return {
    code: error.code,
    reason: error.reason,
    fatal: error.fatal,
    message: error.message,
    serverText: error.serverText,
    hint: error.hint,
    protocolDetail: error.protocolDetail,
  };
}

/** "online", "connecting: Signing in (2/3)", "reconnecting in 12s", "error: …". */
export function statusText(status: AccountStatus, now: number = Date.now()): string {
  switch (status.state) {
    case 'connecting': {
      const p = status.progress;
      if (p === undefined) return 'connecting';
      return `connecting: ${p.text}${p.step !== undefined && p.steps !== undefined ? ` (${p.step}/${p.steps})` : ''}`;
    }
    case 'reconnecting': {
      const seconds = status.nextAttemptAt === undefined ? 0 : Math.max(0, Math.ceil((status.nextAttemptAt - now) / 1000));
      return `reconnecting in ${seconds}s${status.error === undefined ? '' : ` (${status.error.message})`}`;
    }
    case 'error':
      return `error: ${status.error?.message ?? 'unknown'}`;
    default:
      return status.state;
  }
}
