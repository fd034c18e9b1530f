import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { binary, cliEnv, ensureBuilt, runParley, RunningParley } from './helpers.js';
import { RawXmpp } from './raw-xmpp.js';
import { TmuxTerminal } from './tmux.js';

let prosody: TestProsody;
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  ensureBuilt('plugin-xmpp');
  // Plain sign-in allowed for the raw checking client; parley still uses STARTTLS with the test CA.
  prosody = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' }, requireEncryption: false });
  await prosody.stop();
  prosody.writeRoster('alice', [{ jid: 'bob@localhost', name: 'Bob', groups: ['Friends'] }]);
  prosody.writeRoster('bob', [{ jid: 'alice@localhost', name: 'Alice', groups: ['Friends'] }]);
  await prosody.start();
});
afterEach(() => {
  for (const c of cleanup.splice(0).reverse()) c();
});
afterAll(async () => {
  await prosody?.stop();
});

const env = () => ({ NODE_EXTRA_CA_CERTS: prosody.certificates.caCertPath });

/** A home with one XMPP account that trusts the test CA. */
async function homeFor(user: string, resource: string): Promise<string> {
  const home = tempHome(`parley-${user}-`);
  const added = await runParley(home, ['accounts', 'add', 'xmpp', `${user}@localhost`, '--set', 'server=127.0.0.1', '--set', `port=${prosody.port}`, '--set', `resource=${resource}`, '--password-stdin'], {
    input: `${user}-pw\n`,
    env: env(),
  });
  expect(added.code, added.stderr).toBe(0);
  return home;
}

function terminal(home: string): TmuxTerminal {
  const t = new TmuxTerminal([process.execPath, binary], cliEnv(home, env()), { columns: 160, rows: 36 });
  cleanup.push(() => t.close());
  return t;
}

function running(home: string, args: string[]): RunningParley {
  const r = new RunningParley(home, args, env());
  cleanup.push(() => r.child.kill('SIGKILL'));
  return r;
}

/** Alice's sessions on the server, as a raw client of hers is told of them. */
async function aliceSessions(): Promise<string[]> {
  const checker = await RawXmpp.login(prosody.port, 'alice', 'alice-pw', 'checker');
  try {
    return await checker.ownResources('alice', 'checker');
  } finally {
    checker.close();
  }
}

const flat = (screen: string) => screen.replace(/[│\s]+/g, ' ');

describe('interactive clients attached to the running core of their home, against a real Prosody', () => {
  it('two clients on one home share one core: one session, the same conversations and unread counts; either one replies', async () => {
    const home = await homeFor('alice', 'tui');
    const bobHome = await homeFor('bob', 'watch');
    const bob = running(bobHome, ['watch', '--json']);
    await bob.waitFor(() => bob.json().find((e) => e.type === 'account' && e.state === 'online'), 'bob online', 30_000);

    const first = terminal(home);
    await first.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/, 30_000);
    await first.see(/● Bob/);
    const second = terminal(home);
    await second.see('Attached to the Parley core of pid');
    await second.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);
    await second.see(/● Bob/);

    const sent = await runParley(bobHome, ['send', 'xmpp:bob@localhost', 'alice@localhost', 'hello to both of you'], { env: env() });
    expect(sent.code, sent.stderr).toBe(0);
    await first.see('2:Bob(1)');
    await second.see('2:Bob(1)');

    // Read in the second client: the count is the core's, so it drops in the first one too.
    second.press('C-n');
    await second.see('hello to both of you');
    await first.waitFor((s) => s.includes('2:Bob') && !s.includes('2:Bob(1)'), 'the unread count to drop in the first client');
    second.type('answer from the second client');
    second.press('Enter');
    await bob.waitFor(() => bob.json().find((e) => e.type === 'message' && e.direction === 'incoming' && e.text === 'answer from the second client'), 'bob receives the answer', 20_000);
    await second.see('<alice@localhost> answer from the second client');
    first.press('C-n');
    await first.see('<alice@localhost> answer from the second client');
    expect(flat(first.screen())).toContain('<bob@localhost> hello to both of you');

    expect(await aliceSessions()).toEqual(['tui']);
    expect(first.screen()).not.toContain('Signed in elsewhere');

    // A client opened later sees the conversation as it stands.
    second.type('/quit');
    second.press('Enter');
    await second.see('[exited 0]');
    const third = terminal(home);
    await third.see('2:Bob');
    third.press('C-n');
    await third.see('<alice@localhost> answer from the second client');
    third.type('/quit');
    third.press('Enter');
    await third.see('[exited 0]');

    // Leaving an attached client leaves the owner signed in.
    const owner = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { kind: string; accounts: Array<{ state: string }> };
    expect(owner).toMatchObject({ kind: 'interactive', accounts: [{ state: 'online' }] });
    expect(await aliceSessions()).toEqual(['tui']);
    first.type('/quit');
    first.press('Enter');
    await first.see('[exited 0]');
  }, 240_000);

  it('keeps one session while a script sends 20 messages through the owner with parley watch and the interactive client open; each arrives once and shows in both and in history', async () => {
    const home = await homeFor('alice', 'daemon');
    const bob = await RawXmpp.login(prosody.port, 'bob', 'bob-pw', 'raw');
    cleanup.push(() => bob.close());
    bob.send('<presence/>');
    const daemon = running(home, ['daemon']);
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);
    const watch = running(home, ['watch', '--json']);
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'the watch attached');
    const t = new TmuxTerminal([process.execPath, binary], cliEnv(home, env()), { columns: 160, rows: 50 });
    cleanup.push(() => t.close());
    await t.see(`Attached to the Parley core of pid ${daemon.child.pid} (daemon)`);
    await t.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);

    // A script, as a person would write it: one parley send per message, in a loop.
    const script = `for i in $(seq 1 20); do "$NODE" "$PARLEY" send xmpp:alice@localhost bob@localhost "message $i of 20" || exit $?; done`;
    const loop = spawnSync('bash', ['-c', script], { env: { ...cliEnv(home, env()), NODE: process.execPath, PARLEY: binary }, encoding: 'utf8', timeout: 120_000 });
    expect(loop.status, loop.stderr).toBe(0);
    expect(loop.stdout.trim().split('\n')).toEqual(Array.from({ length: 20 }, () => 'Sent to bob@localhost'));

    const expected = Array.from({ length: 20 }, (_, i) => `message ${i + 1} of 20`);
    const bodies = () => [...bob.text.matchAll(/<body>(message \d+ of 20)<\/body>/g)].map((m) => m[1]);
    await bob.waitFor(/<body>message 20 of 20<\/body>/);
    const watched = () => watch.json().filter((e) => e.type === 'message' && /^message \d+ of 20$/.test(String(e.text)));
    await watch.waitFor(() => (watched().length >= 20 ? true : undefined), '20 messages in the watch');
    t.press('C-n');
    await t.see('<alice@localhost> message 20 of 20');
    // Once each: on the server's side, in the watch, on screen and in history.
    expect(bodies()).toEqual(expected);
    expect(watched().map((e) => e.text)).toEqual(expected);
    const screen = t.screen();
    for (const text of expected) expect(screen.split(`<alice@localhost> ${text}\n`).length - 1, text).toBe(1);
    const history = await runParley(home, ['log', 'search', 'of 20', '--json', '--limit', '100']);
    expect(history.code, history.stderr).toBe(0);
    expect((JSON.parse(history.stdout) as Array<{ text: string }>).map((e) => e.text).sort()).toEqual([...expected].sort());

    expect(await aliceSessions()).toEqual(['daemon']);
    const status = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { accounts: Array<{ state: string }> };
    expect(status.accounts).toEqual([expect.objectContaining({ state: 'online' })]);
    expect(daemon.stderr).not.toMatch(/Signed in elsewhere|conflict/);
    expect(t.screen()).not.toContain('Signed in elsewhere');
  }, 240_000);

  it('attaches to parley daemon; when the daemon is killed the client says the core stopped and exits with code 8', async () => {
    const home = await homeFor('alice', 'daemon');
    const daemon = running(home, ['daemon']);
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);
    const t = terminal(home);
    await t.see(`Attached to the Parley core of pid ${daemon.child.pid} (daemon)`);
    await t.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);
    expect(await aliceSessions()).toEqual(['daemon']);
    daemon.child.kill('SIGKILL');
    await t.see('parley: the Parley core stopped');
    await t.see('[exited 8]');
  }, 120_000);
});
