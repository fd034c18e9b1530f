// Every benchmark under bench/ once in its quick mode (BENCH_QUICK=1: tiny
// sizes, one round), so a benchmark broken by a change fails `npm test`
// instead of the next `npm run bench`. The figures are not looked at.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const benchDir = fileURLToPath(new URL('../bench/', import.meta.url));
const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.mjs') && f !== 'run-all.mjs' && f !== 'lib.mjs');

function run(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: benchDir, env: { ...process.env, BENCH_QUICK: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('benchmarks in quick mode', () => {
  it.each(scripts)('%s does its work and prints its RESULT lines', async (script) => {
    const { code, stdout, stderr } = await run([script]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^RESULT \S+ parley=\S+ baseline=\S+ unit=\S+ ratio=\S+ aim=\S+ met=-$/m);
  }, 180_000);

  it('a benchmark whose work was not done exits non-zero and prints no RESULT', async () => {
    const script = `
      import { main, result, verify } from './lib.mjs';
      await main(async () => {
        const stored = 9;
        verify(stored === 10, 'history holds ' + stored + ' of 10 messages');
        result('never', 1, 1, 'msg/s', { higherIsBetter: true });
      });`;
    const { code, stdout, stderr } = await run(['--input-type=module', '-'], script);
    expect(code).toBe(1);
    expect(stderr).toContain('INCOMPLETE: history holds 9 of 10 messages');
    expect(stdout).not.toContain('RESULT');
  });
});
