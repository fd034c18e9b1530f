import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { UiRelay, elect } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer } from './helpers/loopback.js';
import { tempHome } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';
import { LoopbackPeer } from '../packages/ui-cli/test/helpers.js';

// examples/python: a client of the remote protocol in another language, run as a user runs it.
const script = fileURLToPath(new URL('../examples/python/parley_send.py', import.meta.url));
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

function python(home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', [script, ...args], { env: { ...process.env, PARLEY_HOME: home } }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }));
  });
}

describe('the Python example client', () => {
  it('sends through the running core, and reports the core\'s typed error text', async () => {
    const server = await startServer({ alice: 'alice-pw', bob: 'bob-pw' });
    cleanup.push(() => server.stop());
    const home = tempHome('parley-py-');
    const election = await elect({ home });
    if (election.role !== 'owner') throw new Error('expected to own a fresh home');
    cleanup.push(() => election.claim.release());
    const relay = new UiRelay(undefined);
    const { parley } = await loopbackParley({ home, ui: relay });
    cleanup.push(() => parley.shutdown());
    await election.claim.serve(parley, { kind: 'test', relay });
    const alice = await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
    const bob = new LoopbackPeer(server.port, 'bob', 'bob-pw');
    await bob.login();
    cleanup.push(() => bob.close());

    const run = await python(home, ['loopback:alice', 'bob', 'hello from python']);
    expect(run).toMatchObject({ code: 0, stdout: 'sent\n' });
    await waitFor(() => bob.received.find((m) => m.op === 'msg' && m.text === 'hello from python'), 'bob to get the message');
    expect(parley.accounts.status(alice.id).state).toBe('online');
    expect(parley.conversations.find(alice.id, 'im', 'bob')?.messages.map((m) => m.text)).toEqual(['hello from python']);

    const unknown = await python(home, ['loopback:nobody', 'bob', 'hi']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('parley: No account "loopback:nobody"\n');
  });
});
