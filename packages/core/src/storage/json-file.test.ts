import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoalescedJsonFile } from './json-file.js';

const dir = () => mkdtempSync(join(tmpdir(), 'parley-json-'));
const read = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not reached');
}

describe('CoalescedJsonFile', () => {
  it('writes a burst of changes once, in the background, with owner-only permissions', async () => {
    const home = dir();
    const path = join(home, 'state.json');
    let state = { n: 0 };
    let snapshots = 0;
    const file = new CoalescedJsonFile(path, () => (snapshots++, state), (error) => { throw error; }, 20);
    for (let i = 1; i <= 100; i++) {
      state = { n: i };
      file.schedule();
    }
    await until(() => readdirSync(home).includes('state.json'));
    expect(read(path)).toEqual({ n: 100 });
    expect(snapshots).toBe(1);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    await file.flush();
    expect(readdirSync(home)).toEqual(['state.json']);
  });

  it('flush writes the latest state even while a background write is in flight', async () => {
    const home = dir();
    const path = join(home, 'state.json');
    // Large enough that the background write is still going when flush comes.
    let state: { n: number; pad?: string } = { n: 1, pad: 'x'.repeat(32 * 1024 * 1024) };
    const file = new CoalescedJsonFile(path, () => state, (error) => { throw error; }, 0);
    file.schedule();
    // The background write of n=1 has begun once its temporary file exists.
    for (let i = 0; i < 10_000 && !readdirSync(home).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setImmediate(r));
    expect(readdirSync(home).some((f) => f.endsWith('.tmp'))).toBe(true);
    state = { n: 2 };
    await file.flush();
    expect(read(path)).toEqual({ n: 2 });
    // The superseded write did not come back over the newer file, and left nothing behind: once its
    // temporary file is gone it has finished, whichever way it went.
    for (let i = 0; i < 1000 && readdirSync(home).some((f) => f.endsWith('.tmp')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(read(path)).toEqual({ n: 2 });
    expect(readdirSync(home)).toEqual(['state.json']);
  });

  it('reports a failed background write and keeps going', async () => {
    const home = dir();
    // The directory the file should live in is a file: every write fails.
    const blocked = join(home, 'blocked');
    writeFileSync(blocked, 'not a directory');
    const errors: unknown[] = [];
    const file = new CoalescedJsonFile(join(blocked, 'state.json'), () => ({ n: 1 }), (error) => errors.push(error), 0);
    file.schedule();
    await until(() => errors.length === 1);
    expect(String((errors[0] as Error).message)).toMatch(/ENOTDIR|EEXIST/);
    // A later change is tried again, and fails the same clear way.
    file.schedule();
    await until(() => errors.length === 2);
  });
});
