// Shared by the benchmark scripts: timing, medians and the RESULT line.
import { performance } from 'node:perf_hooks';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function timeIt(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** One line per benchmark, for scripts comparing runs. `higherIsBetter` decides the ratio's direction. */
export function result(name, parley, baseline, unit, { higherIsBetter }) {
  const ratio = higherIsBetter ? parley / baseline : baseline / parley;
  const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  console.log(`RESULT ${name} parley=${fmt(parley)} baseline=${fmt(baseline)} unit=${unit} ratio=${ratio.toFixed(3)}`);
}
