import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { ensureBuilt, runParley, RunningParley } from './helpers.js';
import { RawXmpp } from './raw-xmpp.js';

let prosody: TestProsody;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  ensureBuilt('plugin-xmpp');
  // Plain sign-in allowed so the raw client needs no TLS; parley still uses STARTTLS with the test CA.
  prosody = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, requireEncryption: false });
});
afterAll(async () => {
  for (const c of cleanup) c();
  await prosody?.stop();
});

describe('parley buddies against a real Prosody', () => {
  it('adds, aliases, moves and removes a buddy through the running owner; the server roster and subscription follow', async () => {
    const home = tempHome('parley-buddies-');
    const env = { NODE_EXTRA_CA_CERTS: prosody.certificates.caCertPath };
    const added = await runParley(home, ['accounts', 'add', 'xmpp', 'alice@localhost', '--set', 'server=127.0.0.1', '--set', `port=${prosody.port}`, '--password-stdin'], { input: 'alice-pw\n', env });
    expect(added.code, added.stderr).toBe(0);
    const daemon = new RunningParley(home, ['daemon'], env);
    cleanup.push(() => daemon.child.kill('SIGKILL'));
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);

    const add = await runParley(home, ['buddies', 'add', 'xmpp:alice@localhost', 'bob@localhost', '--group', 'Friends', '--alias', 'Bobby'], { env });
    expect(add, add.stderr).toMatchObject({ code: 0, stdout: 'Added bob@localhost to xmpp:alice@localhost\n' });
    const checker = await RawXmpp.login(prosody.port, 'alice', 'alice-pw', 'checker');
    cleanup.push(() => checker.close());
    const roster = await checker.roster('r1');
    expect(roster).toMatch(/<item[^>]*jid=['"]bob@localhost['"]/);
    expect(roster).toMatch(/name=['"]Bobby['"]/);
    expect(roster).toContain('<group>Friends</group>');
    expect(roster).toMatch(/ask=['"]subscribe['"]/);

    // Bob is asked: the server holds alice's subscription request for him.
    const bob = await RawXmpp.login(prosody.port, 'bob', 'bob-pw', 'raw');
    cleanup.push(() => bob.close());
    bob.send('<presence/>');
    await bob.waitFor(/<presence[^>]*type=['"]subscribe['"][^>]*>|<presence[^>]*from=['"]alice@localhost['"][^>]*type=['"]subscribe['"]/);

    const listed = JSON.parse((await runParley(home, ['buddies', 'list', '--json'], { env })).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ name: 'bob@localhost', alias: 'Bobby', group: 'Friends', accountLabel: 'xmpp:alice@localhost' })]);

    expect((await runParley(home, ['buddies', 'alias', 'xmpp:alice@localhost', 'bob@localhost', 'Robert'], { env })).code).toBe(0);
    expect((await runParley(home, ['buddies', 'move', 'xmpp:alice@localhost', 'bob@localhost', 'Work'], { env })).code).toBe(0);
    const changed = await checker.roster('r2');
    expect(changed).toMatch(/name=['"]Robert['"]/);
    expect(changed).toContain('<group>Work</group>');

    expect((await runParley(home, ['buddies', 'remove', 'xmpp:alice@localhost', 'bob@localhost'], { env })).code).toBe(0);
    const emptied = await checker.roster('r3');
    expect(emptied).not.toContain('bob@localhost');
    expect(JSON.parse((await runParley(home, ['buddies', 'list', '--json'], { env })).stdout)).toEqual([]);
    const unknown = await runParley(home, ['buddies', 'remove', 'xmpp:alice@localhost', 'nobody@localhost'], { env });
    expect(unknown.code, unknown.stderr + daemon.stderr).toBe(3);
    expect(daemon.child.exitCode).toBeNull(); // the owner is still running
    expect(unknown.stderr).toContain('nobody@localhost is not on the buddy list of xmpp:alice@localhost');
  });
});
