import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UiRequest } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer, type LoopbackServerApi } from '../../../test/helpers/loopback.js';
import { RecordingUi } from '../../../test/helpers/recording-ui.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { until } from '../../../test/helpers/wait.js';
import { ensureBuilt, homeWithLoopback, runParley, RunningParley } from './helpers.js';

let server: LoopbackServerApi;
const running: RunningParley[] = [];
const cleanup: Array<() => Promise<void>> = [];
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  ensureBuilt();
  server = await startServer({ alice: 'alice-pw', bob: 'bob-pw', owner: 'owner-pw' });
});
afterEach(async () => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
  while (cleanup.length > 0) await cleanup.pop()!();
});
afterAll(async () => {
  await server?.stop();
});

/** Bob, in a Parley of the test's own, answering file offers with `answer`. */
async function bob(answer: string | undefined) {
  const downloads = join(tempHome('parley-bob-'), 'Downloads');
  const ui = new RecordingUi((request: UiRequest, context) => (context.purpose === 'file-transfer' ? answer : undefined));
  const { parley } = await loopbackParley({ ui, transfers: { downloadDir: downloads } });
  cleanup.push(() => parley.shutdown());
  const account = await addLoopbackAccount(parley, server.port, 'bob', 'bob-pw');
  await parley.accounts.connect(account.id);
  return { parley, downloads };
}

async function homeOf(user: string): Promise<string> {
  const home = homeWithLoopback();
  const added = await runParley(home, ['accounts', 'add', 'loopback', user, '--set', `port=${server.port}`, '--password-stdin', '--json'], { input: `${user}-pw\n` });
  expect(added.code).toBe(0);
  return home;
}

function file(bytes: Buffer, name = 'report.bin'): string {
  const path = join(tempHome('parley-file-'), name);
  writeFileSync(path, bytes);
  return path;
}

describe('parley send-file', () => {
  it('sends a file the peer accepts, ending with its size and rate, and exits 0', async () => {
    const peer = await bob('accept');
    const home = await homeOf('alice');
    const bytes = randomBytes(1024 * 1024);
    const run = await runParley(home, ['send-file', 'loopback:alice', 'bob', file(bytes)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Sent report\.bin to bob: 1 MiB in \d+ s, [\d.]+ [KMG]?i?B\/s\n$/);
    // The sender is done once its last byte left; the receiver once it checked and named the file.
    await until(() => peer.parley.transfers.list().some((t) => t.state === 'done'), 15_000, 'bob to have the file');
    expect(sha256(readFileSync(join(peer.downloads, 'report.bin')))).toBe(sha256(bytes));
  });

  it('exits 5 when the peer declines, when the file cannot be read, and says why', async () => {
    await bob('decline');
    const home = await homeOf('alice');
    const declined = await runParley(home, ['send-file', 'loopback:alice', 'bob', file(Buffer.from('no thanks'))]);
    expect(declined.code).toBe(5);
    expect(declined.stderr).toBe('Not sent: bob declined report.bin\n');
    const missing = await runParley(home, ['send-file', 'loopback:alice', 'bob', '/nonexistent/file.bin']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/^parley: Cannot send \/nonexistent\/file\.bin: /);
    const usage = await runParley(home, ['send-file', 'loopback:alice', 'bob']);
    expect(usage.code).toBe(2);
    const json = await runParley(home, ['send-file', 'loopback:alice', 'bob', file(Buffer.from('x')), '--json']);
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({ sent: false, to: 'bob', transfer: { state: 'cancelled', cancelledBy: 'peer', reason: 'declined' } });
  });

  it('sends through the running owner, whose watch --json prints the transfer events', async () => {
    const peer = await bob('accept');
    const home = await homeOf('owner');
    const watch = new RunningParley(home, ['watch', '--json', '--only', 'transfer,account']);
    running.push(watch);
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'the owner online');
    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    const relative = file(bytes, 'through-owner.bin');
    const run = await runParley(home, ['send-file', 'loopback:owner', 'bob', relative, '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { sent: boolean; transfer: { id: string; state: string; size: number } };
    expect(result).toMatchObject({ sent: true, transfer: { state: 'done', size: bytes.length } });
    const events = await watch.waitFor(() => {
      const mine = watch.json().filter((e) => e.type === 'transfer' && e.transfer.id === result.transfer.id);
      return mine.some((e) => e.event === 'changed' && e.transfer.state === 'done') ? mine : undefined;
    }, 'the transfer events');
    expect(events[0]).toMatchObject({ event: 'added', accountLabel: 'loopback:owner', transfer: { direction: 'outgoing', state: 'waiting', name: 'through-owner.bin', peer: 'bob' } });
    const states = events.filter((e) => e.event === 'changed').map((e) => e.transfer.state);
    expect(states).toEqual(['transferring', 'done']);
    const last = events.filter((e) => e.event === 'progress').at(-1);
    expect(last).toBeDefined();
    expect(last!.progress).toMatchObject({ bytes: bytes.length, size: bytes.length });
    await until(() => peer.parley.transfers.list().some((t) => t.state === 'done'), 15_000, 'bob to have the file');
    expect(sha256(readFileSync(join(peer.downloads, 'through-owner.bin')))).toBe(sha256(bytes));
  });
});
