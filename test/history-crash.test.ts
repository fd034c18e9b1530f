import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteHistory } from '@parley/core';
import { tempHome } from './helpers/temp.js';
import { until } from './helpers/wait.js';

// A writer that appends messages as fast as it can and reports each flushed batch.
const writer = `
import { SqliteHistory } from '@parley/core';
const history = new SqliteHistory(process.argv[1]);
let n = 0;
for (;;) {
  for (let i = 0; i < 200; i++) {
    n++;
    history.append({ id: 'm' + n, conversationId: 'c', accountId: 'acc', peer: 'bob', conversationKind: 'im',
      direction: 'incoming', sender: 'bob', timestamp: Date.now(), text: 'message number ' + n, flags: {} });
  }
  await history.flush();
  process.stdout.write(n + '\\n');
}
`;

describe('history survives kill -9 mid-write', () => {
  it('reopens consistent, with every batch that was reported written', async () => {
    const path = join(tempHome(), 'history.db');
    const child = spawn(process.execPath, ['--input-type=module', '-e', writer, path], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    let lastFlushed = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = chunk.trim().split('\n');
      lastFlushed = Number(lines[lines.length - 1]);
    });
    await until(() => lastFlushed >= 5000, 30_000, 'the writer to get going');
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
    const history = new SqliteHistory(path);
    const count = (await history.search({ limit: 10_000, words: 'message' })).length;
    // Everything reported flushed is there (the search caps at 10,000 rows).
    expect(count).toBeGreaterThanOrEqual(Math.min(lastFlushed, 10_000));
    const last = await history.search({ words: `number ${lastFlushed}` });
    expect(last.map((e) => e.text)).toContain(`message number ${lastFlushed}`);
    await history.close();
  });
});
