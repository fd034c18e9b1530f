/** The soak's tables: one per protocol as it finishes, and a Markdown summary of all. */
import type { DirectionCounts } from './traffic.js';

export interface ProtocolResult {
  title: string;
  delivery: string;
  restarts: number;
  directions: DirectionCounts[];
  /** Each account's time offline per restart: from the drop to online again, in ms. */
  offlineMs: number[];
  /** The same outages measured from the moment the restarted server accepted connections. */
  afterServerUpMs: number[];
  /** How long each restart took, from stopping the server to the new one accepting connections. */
  restartMs: number[];
  /** Restarts after which an account was not back online within the bound. */
  notBack: string[];
  /** Why the accounts said they dropped, with counts. */
  dropReasons: Map<string, number>;
  /** Error lines from the plugin that no failed message explains. */
  notices: string[];
  /** Whether every message had an outcome before the drain bound. */
  settled: boolean;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? '–' : `${(ms / 1000).toFixed(2)} s`);

export function total(result: ProtocolResult): DirectionCounts {
  const sum = (key: 'sent' | 'received' | 'lost' | 'duplicated' | 'failed' | 'failedButArrived' | 'outOfOrder') => result.directions.reduce((n, d) => n + d[key], 0);
  const failureCodes = new Map<string, number>();
  for (const d of result.directions) for (const [code, n] of d.failureCodes) failureCodes.set(code, (failureCodes.get(code) ?? 0) + n);
  return {
    label: 'both',
    sent: sum('sent'),
    received: sum('received'),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    failed: sum('failed'),
    failedButArrived: sum('failedButArrived'),
    outOfOrder: sum('outOfOrder'),
    failureCodes,
    lostSeqs: [],
  };
}

function grid(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** The plain-text table printed when a protocol's soak ends. */
export function protocolTable(result: ProtocolResult): string {
  const head = ['', 'sent', 'received', 'lost', 'duplicated', 'reported failed', 'failed yet arrived', 'out of order'];
  const row = (d: DirectionCounts) => [d.label, d.sent, d.received, d.lost, d.duplicated, d.failed, d.failedButArrived, d.outOfOrder].map(String);
  const lines = [
    `${result.title}: ${result.restarts} server restarts`,
    grid([head, ...result.directions.map(row), row(total(result))]),
    `reconnect, offline time per account and restart (${result.offlineMs.length}): median ${seconds(median(result.offlineMs))}, max ${seconds(Math.max(...result.offlineMs))}` +
      `; after the server was back: median ${seconds(median(result.afterServerUpMs))}, max ${seconds(Math.max(...result.afterServerUpMs))}`,
    `server restart (stop until it accepts connections again): median ${seconds(median(result.restartMs))}, max ${seconds(Math.max(...result.restartMs))}`,
    `delivery: ${result.delivery}`,
  ];
  const codes = total(result).failureCodes;
  if (codes.size > 0) lines.push(`reported failed as: ${[...codes].map(([code, n]) => `${code} ×${n}`).join(', ')}`);
  if (result.dropReasons.size > 0) lines.push(`drops reported as: ${[...result.dropReasons].map(([reason, n]) => `${reason} ×${n}`).join(', ')}`);
  for (const d of result.directions) if (d.lost > 0) lines.push(`lost ${d.label}: #${d.lostSeqs.join(', #')}${d.lost > d.lostSeqs.length ? ', …' : ''}`);
  if (result.notBack.length > 0) lines.push(`not back online in time: ${result.notBack.join('; ')}`);
  if (!result.settled) lines.push('the drain bound passed with messages still without an outcome: they count as lost');
  if (result.notices.length > 0) lines.push(`plugin error notices (${result.notices.length}): ${[...new Set(result.notices)].slice(0, 5).join(' | ')}`);
  return lines.join('\n');
}

/** The summary across protocols, as docs/reliability.md shows it. */
export function markdownSummary(results: readonly ProtocolResult[]): string {
  const lines = [
    '| protocol | restarts | sent | received | lost | duplicated | reported failed | out of order | reconnect median | reconnect max |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const t = total(r);
    lines.push(`| ${r.title} | ${r.restarts} | ${t.sent} | ${t.received} | ${t.lost} | ${t.duplicated} | ${t.failed} | ${t.outOfOrder} | ${seconds(median(r.offlineMs))} | ${seconds(Math.max(...r.offlineMs))} |`);
  }
  return lines.join('\n');
}
