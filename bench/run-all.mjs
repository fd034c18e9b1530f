// Runs every benchmark script in this folder, one after another, then prints
// a summary table of every RESULT line: its figures, its aim, and whether the
// aim is met. Arguments select scripts by name prefix (`node bench/run-all.mjs irc`).
// Exits non-zero when a benchmark failed (its work not done, or an error).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const scripts = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.mjs') && f !== 'run-all.mjs' && f !== 'lib.mjs')
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

/** `RESULT name k=v …` → { name, k: v, … } */
function parseResult(line) {
  const [, name, ...pairs] = line.trim().split(/\s+/);
  return Object.fromEntries([['name', name], ...pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])]);
}

function runScript(script) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [new URL(script, import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = [];
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop();
      lines.push(...parts);
    });
    child.on('close', (code) => resolve({ code, results: [...lines, buffered].filter((l) => l.startsWith('RESULT ')).map(parseResult) }));
  });
}

const rows = [];
const failed = [];
for (const script of scripts) {
  console.log(`\n== ${script}`);
  const { code, results } = await runScript(script);
  if (code !== 0) failed.push(script);
  else rows.push(...results);
}

const table = [['result', 'parley', 'baseline', 'unit', 'ratio', 'aim', 'met'], ...rows.map((r) => [r.name, r.parley, r.baseline, r.unit, r.ratio, r.aim, r.met])];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => String(row[c] ?? '').length)));
console.log(`\n== summary (load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}${process.env.BENCH_QUICK === '1' ? '; quick run: aims not judged' : ''})`);
for (const row of table) console.log(row.map((cell, c) => String(cell ?? '').padEnd(widths[c])).join('  ').trimEnd());
for (const script of failed) console.log(`FAILED ${script}: no figures (see its output above)`);
const unmet = rows.filter((r) => r.met === 'no').length;
console.log(`${rows.length} results, ${rows.filter((r) => r.met === 'yes').length} aims met, ${unmet} not met, ${failed.length} benchmarks failed`);
process.exit(failed.length === 0 ? 0 : 1);
