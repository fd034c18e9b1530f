// Shared by the benchmark scripts: rounds, statistics, the check that the
// work was done, and the RESULT line `run-all.mjs` summarises.
//
// Every benchmark runs its sides through `rounds()`: warm-up rounds first (discarded: JIT, file
// cache, the server's caches), then at least 7 measured rounds with the order of the sides rotated
// each round, so neither side always runs first or right after the other. A figure is the median of
// its rounds, printed with its spread. `BENCH_QUICK=1` is a smoke run: tiny sizes, no warm-up, one
// round — it proves the benchmark works, its figures mean nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export const QUICK = process.env.BENCH_QUICK === '1';

/** A size for a full run, or the tiny one for a quick run. */
export function size(full, quick) {
  return QUICK ? quick : full;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The value below which `p` percent of the values lie (nearest rank). */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Median, extremes and spread ((max − min) / median) of a list of measurements. */
export function stats(values) {
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: m, min, max, n: values.length, spread: m === 0 ? 0 : (max - min) / m };
}

const fmt = (n) => (Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(2));

/** `1234 msg/s (median of 7; min 1100, max 1300, spread 16%)` */
export function describe(values, unit) {
  const s = stats(values);
  return `${fmt(s.median)} ${unit} (median of ${s.n}; min ${fmt(s.min)}, max ${fmt(s.max)}, spread ${(s.spread * 100).toFixed(0)}%)`;
}

export async function timeIt(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Thrown when a side did not do all of its work: the benchmark exits non-zero and prints no ratio. */
export class IncompleteWork extends Error {
  name = 'IncompleteWork';
}

/** Fails the benchmark unless `condition` holds (e.g. every message sent is in the history). */
export function verify(condition, message) {
  if (!condition) throw new IncompleteWork(message);
}

/** How many warm-up and measured rounds `rounds()` runs with these options (for work split in rounds). */
export function roundCounts({ warmup = 1, rounds: count = 7 } = {}) {
  return {
    warm: QUICK ? 0 : Number(process.env.BENCH_WARMUP ?? warmup),
    measured: QUICK ? 1 : Math.max(7, Number(process.env.BENCH_ROUNDS ?? count)),
  };
}

/**
 * Runs each side `warmup` times (discarded), then `rounds` measured times, rotating the order every
 * round: with sides A, B, C the rounds run ABC, BCA, CAB, ABC… Each side is an async function
 * returning its measurement (a number or an object). Returns `{ [side]: [measurement, …] }`.
 * The order is a rotation, so a side always follows the same one: `settleMs` waits that long before
 * each side, so what a server still does after the side before (a session being torn down) is not
 * timed as this side's.
 * Environment: BENCH_ROUNDS (≥ 7) and BENCH_WARMUP override the counts of a full run.
 */
export async function rounds(sides, { warmup = 1, rounds: count = 7, onRound, settleMs = 0 } = {}) {
  const names = Object.keys(sides);
  const { warm, measured } = roundCounts({ warmup, rounds: count });
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < warm + measured; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const got = {};
    for (const name of order) {
      if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
      got[name] = await sides[name]();
    }
    if (round < warm) continue;
    for (const name of names) results[name].push(got[name]);
    onRound?.(round - warm, got, order);
  }
  return results;
}

/**
 * An aim, as `{ ratioAtLeast, parleyAtMost, parleyAtLeast, aboveBaselineAtMost }` (every key given
 * must hold). The ratio is always oriented so that above 1 means Parley is better.
 */
function checkAim(aim, { parley, baseline, ratio }) {
  if (aim === undefined) return { text: 'none', met: undefined };
  const parts = [];
  let met = true;
  const add = (text, holds) => {
    parts.push(text);
    met &&= holds;
  };
  if (aim.ratioAtLeast !== undefined) add(`ratio>=${aim.ratioAtLeast}`, ratio >= aim.ratioAtLeast);
  if (aim.parleyAtMost !== undefined) add(`parley<=${aim.parleyAtMost}`, parley <= aim.parleyAtMost);
  if (aim.parleyAtLeast !== undefined) add(`parley>=${aim.parleyAtLeast}`, parley >= aim.parleyAtLeast);
  if (aim.aboveBaselineAtMost !== undefined) add(`parley-baseline<=${aim.aboveBaselineAtMost}`, parley - baseline <= aim.aboveBaselineAtMost);
  return { text: parts.join(','), met };
}

/**
 * One line per figure, for `run-all.mjs` and scripts comparing runs:
 * `RESULT <name> parley=<n> baseline=<n> unit=<u> ratio=<r> aim=<aim> met=<yes|no|->`.
 * `higherIsBetter` decides the ratio's direction (parley/baseline or baseline/parley). In a quick
 * run the aim is not judged: its figures are not measurements.
 */
export function result(name, parley, baseline, unit, { higherIsBetter, aim }) {
  const ratio = higherIsBetter ? parley / baseline : baseline / parley;
  const { text, met } = checkAim(aim, { parley, baseline, ratio });
  const judged = QUICK || met === undefined ? '-' : met ? 'yes' : 'no';
  console.log(`RESULT ${name} parley=${fmt(parley)} baseline=${fmt(baseline)} unit=${unit} ratio=${ratio.toFixed(3)} aim=${text} met=${judged}`);
}

/**
 * Runs a benchmark's main function: an IncompleteWork (or any error) is reported and the process
 * exits 1, so `npm run bench` and the quick test see it; otherwise it exits 0 even if a client
 * library left a timer behind.
 */
export async function main(fn) {
  try {
    await fn();
    process.exit(0);
  } catch (error) {
    console.error(error instanceof IncompleteWork ? `INCOMPLETE: ${error.message}` : error);
    process.exit(1);
  }
}

/**
 * CPU time (ms) each thread of this process has used so far, by thread id, or undefined where
 * `/proc` does not tell (Linux only). The difference of two snapshots says which thread did the
 * work in between: a rate in wall time depends on how many cores were free while it was measured
 * (on a busy machine a side that needs two threads loses most), CPU time much less.
 */
export function threadCpu() {
  try {
    const out = new Map();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        // The first field of schedstat: nanoseconds spent running.
        out.set(Number(tid), Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // The thread ended between listing and reading.
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * The CPU time (ms) used between two `threadCpu()` snapshots by the main thread, by the threads
 * started after `known` was taken (e.g. a worker started for the measured side), and by the others
 * (V8's collector and compiler helpers, libuv's pool). Undefined where `/proc` does not tell.
 */
export function cpuBetween(known, before, after) {
  if (known === undefined || before === undefined || after === undefined) return undefined;
  const used = { main: 0, started: 0, other: 0 };
  for (const [tid, ms] of after) {
    const spent = ms - (before.get(tid) ?? 0);
    if (tid === process.pid) used.main += spent;
    else if (!known.has(tid)) used.started += spent;
    else used.other += spent;
  }
  return { ...used, total: used.main + used.started + used.other };
}

/**
 * What a Parley home's history database holds once it is closed: its rows, and how many of them
 * the full-text index finds for `word` (read-only, after the measured part).
 */
export async function storedHistory(dbPath, word) {
  const { createRequire } = await import('node:module');
  const Database = createRequire(new URL('../packages/core/package.json', import.meta.url))('better-sqlite3');
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT count(*) AS n FROM messages').get().n;
    const indexed = db.prepare('SELECT count(*) AS n FROM messages_fts WHERE messages_fts MATCH ?').get(`"${word}"`).n;
    return { rows, indexed };
  } finally {
    db.close();
  }
}
