import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { binary, cliEnv, ensureBuilt, run, runParley, RunningParley } from './helpers.js';
import { RawXmpp } from './raw-xmpp.js';
import { TmuxTerminal } from './tmux.js';

let prosody: TestProsody;
const cleanup: Array<() => void | Promise<void>> = [];

beforeAll(async () => {
  ensureBuilt('plugin-xmpp');
  // Plain sign-in allowed for the raw checking client; parley still uses STARTTLS with the test CA.
  prosody = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', dave: 'dave-pw', erin: 'erin-pw', frank: 'frank-pw' }, requireEncryption: false });
  await prosody.stop();
  prosody.writeRoster('alice', [{ jid: 'bob@localhost', name: 'Bob', groups: ['Friends'] }]);
  prosody.writeRoster('bob', [{ jid: 'alice@localhost', name: 'Alice', groups: ['Friends'] }]);
  await prosody.start();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
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

/**
 * A parley process, stopped politely after the test: a killed one leaves its
 * session on the server (stream management keeps it for a while), and the
 * next test would count it.
 */
function running(home: string, args: string[]): RunningParley {
  const r = new RunningParley(home, args, env());
  cleanup.push(async () => {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return;
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 15_000);
    await r.exited;
    clearTimeout(timer);
  });
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

/** A presence stanza from `from` of `type`, whatever the order of its attributes. */
const presence = (from: string, type: string) => new RegExp(`<presence(?=[^>]*from=['"]${from.replace(/\./g, '\\.')}[/'"])(?=[^>]*type=['"]${type}['"])[^>]*>`);

/** The roster item for `jid` in a roster answer, or ''. */
function itemOf(roster: string, jid: string): string {
  const escaped = jid.replace(/\./g, '\\.');
  return new RegExp(`<item[^>]*jid=['"]${escaped}['"][^>]*/>|<item[^>]*jid=['"]${escaped}['"][^>]*>[\\s\\S]*?</item>`).exec(roster)?.[0] ?? '';
}

/** A user's roster as the server holds it, asked again until `check` holds (roster pushes are not instant). */
async function rosterUntil(client: RawXmpp, check: (roster: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (let i = 0; ; i++) {
    const roster = await client.roster(`r${i}-${Date.now()}`);
    if (check(roster)) return roster;
    if (Date.now() > deadline) throw new Error(`the server's roster never showed ${what}:\n${roster}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
    const home = await homeFor('alice', 'loop');
    const bob = await RawXmpp.login(prosody.port, 'bob', 'bob-pw', 'raw');
    cleanup.push(() => bob.close());
    // The highest priority: messages to bob's bare address come here, whatever else of his is online.
    bob.send('<presence><priority>10</priority></presence>');
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
    const loop = await run('bash', ['-c', script], { env: { ...cliEnv(home, env()), NODE: process.execPath, PARLEY: binary } });
    expect(loop.code, loop.stderr).toBe(0);
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

    expect(await aliceSessions()).toEqual(['loop']);
    const status = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { accounts: Array<{ state: string }> };
    expect(status.accounts).toEqual([expect.objectContaining({ state: 'online' })]);
    expect(daemon.stderr).not.toMatch(/Signed in elsewhere|conflict/);
    expect(t.screen()).not.toContain('Signed in elsewhere');
  }, 240_000);

  it('manages buddies from the input line and answers authorization requests in a prompt (allow, deny, later); the server roster and subscriptions follow', async () => {
    const home = await homeFor('alice', 'owner');
    const daemon = running(home, ['daemon']);
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);
    // Attached to the daemon: the commands and the answers go through the socket.
    const t = terminal(home);
    await t.see('Attached to the Parley core of pid');
    await t.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);
    const checker = await RawXmpp.login(prosody.port, 'alice', 'alice-pw', 'checker');
    cleanup.push(() => checker.close());
    const carol = /<item[^>]*jid=['"]carol@localhost['"][^>]*>[\s\S]*?<\/item>|<item[^>]*jid=['"]carol@localhost['"][^>]*\/>/;

    t.type('/add carol@localhost Work');
    t.press('Enter');
    await t.see('Added carol@localhost to xmpp:alice@localhost in Work');
    let item = carol.exec(await rosterUntil(checker, (r) => carol.test(r), 'carol'))![0];
    expect(item).toContain('<group>Work</group>');
    expect(item).toMatch(/ask=['"]subscribe['"]/);
    await t.see(/○ carol@localhost/);

    t.type('/alias carol@localhost Caroline');
    t.press('Enter');
    await t.see('carol@localhost is now Caroline');
    item = carol.exec(await rosterUntil(checker, (r) => /name=['"]Caroline['"]/.test(carol.exec(r)?.[0] ?? ''), 'the alias'))![0];
    await t.see(/○ Caroline/);

    t.type('/group Caroline Friends');
    t.press('Enter');
    await t.see('Moved Caroline to Friends');
    item = carol.exec(await rosterUntil(checker, (r) => (carol.exec(r)?.[0] ?? '').includes('<group>Friends</group>'), 'the new group'))![0];
    expect(item).not.toContain('<group>Work</group>');

    t.type('/remove Caroline');
    t.press('Enter');
    await t.see('Removed carol@localhost from xmpp:alice@localhost');
    await rosterUntil(checker, (r) => !carol.test(r), 'carol gone');
    await t.waitFor((s) => !/[○●◐◌⊘] Caroline/.test(s), 'Caroline gone from the buddy list');

    // Authorization requests, asked in a prompt of the attached client.
    const asker = async (user: string) => {
      const c = await RawXmpp.login(prosody.port, user, `${user}-pw`, 'raw');
      cleanup.push(() => c.close());
      c.send(`<presence/><presence to='alice@localhost' type='subscribe'/>`);
      await t.see(`${user}@localhost wants to add you to their buddy list`);
      expect(t.screen()).toContain('Authorization request');
      return c;
    };
    const frank = await asker('frank');
    await t.see('> Allow');
    t.press('Down', 'Down');
    await t.see('> Later');
    t.press('Enter');
    await t.waitFor((s) => !s.includes('frank@localhost wants to add you'), 'the prompt answered');

    const dave = await asker('dave');
    t.press('Enter'); // Allow, the default
    // On the server: dave may see alice; alice asked back, so she waits for dave's answer.
    await rosterUntil(dave, (r) => /subscription=['"]to['"]/.test(itemOf(r, 'alice@localhost')), 'dave subscribed to alice');
    await rosterUntil(checker, (r) => /subscription=['"]from['"]/.test(itemOf(r, 'dave@localhost')) && /ask=['"]subscribe['"]/.test(itemOf(r, 'dave@localhost')), 'alice asking dave back');
    await dave.waitFor(presence('alice@localhost', 'subscribe'));

    const erin = await asker('erin');
    t.press('Down');
    await t.see('> Deny');
    t.press('Enter');
    // Denied: erin's request is no longer pending, and she is not subscribed.
    const erinsAlice = itemOf(await rosterUntil(erin, (r) => !/ask=/.test(itemOf(r, 'alice@localhost')), 'erin\'s request answered'), 'alice@localhost');
    expect(erinsAlice === '' || /subscription=['"]none['"]/.test(erinsAlice), erinsAlice).toBe(true);

    // Later sent nothing: frank's request, answered before erin's, is still pending on the server,
    // which puts it again to the next session of alice's that signs in.
    expect(itemOf(await frank.roster('frank-roster'), 'alice@localhost')).toMatch(/ask=['"]subscribe['"]/);
    const next = await RawXmpp.login(prosody.port, 'alice', 'alice-pw', 'next');
    cleanup.push(() => next.close());
    next.send('<presence/>');
    await next.waitFor(presence('frank@localhost', 'subscribe'));
    expect(await aliceSessions()).toEqual(expect.arrayContaining(['owner']));
  }, 240_000);

  it('reports the person idle after the configured time without keystrokes, as XEP-0319 idle time a raw client sees, and back on the next keystroke', async () => {
    const home = await homeFor('alice', 'idle');
    // 3 seconds, so the test does not wait minutes: the setting takes any number of minutes.
    writeFileSync(join(home, 'ui-cli.json'), JSON.stringify({ idleAfterMinutes: 0.05 }));
    const bob = await RawXmpp.login(prosody.port, 'bob', 'bob-pw', 'idle-watcher');
    cleanup.push(() => bob.close());
    bob.send('<presence/>');
    const daemon = running(home, ['daemon']);
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);
    const fromAlice = () => [...bob.text.matchAll(/<presence(?=[^>]*from=['"]alice@localhost\/idle['"])[^>]*(?:\/>|>([\s\S]*?)<\/presence>)/g)].map((m) => m[1] ?? '');
    const idleElement = /<idle[^>]*xmlns=['"]urn:xmpp:idle:1['"][^>]*>|<idle[^>]*since=['"][^'"]+['"][^>]*xmlns=['"]urn:xmpp:idle:1['"][^>]*>/;
    await bob.waitFor(/<presence(?=[^>]*from=['"]alice@localhost\/idle['"])/);
    expect(fromAlice().some((p) => idleElement.test(p))).toBe(false);

    const started = Date.now();
    const t = terminal(home);
    await t.see('Attached to the Parley core of pid');
    const idle = await bob.waitFor(/<presence(?=[^>]*from=['"]alice@localhost\/idle['"])[^>]*>(?:(?!<\/presence>)[\s\S])*<idle[^>]*urn:xmpp:idle:1[^>]*>/, 30_000);
    const since = Date.parse(/since=['"]([^'"]+)['"]/.exec(idle.slice(idle.lastIndexOf('<idle')))![1]!);
    // Idle since the last keystroke (none yet: since the client started), not since the report.
    expect(since).toBeGreaterThanOrEqual(started - 1000);
    expect(since).toBeLessThanOrEqual(Date.now());

    const before = fromAlice().length;
    t.type('x');
    await bob.waitFor(new RegExp(`(<presence(?=[^>]*from=['"]alice@localhost/idle['"])[\\s\\S]*?){${before + 1}}`));
    const latest = fromAlice().at(-1)!;
    expect(latest).not.toMatch(/urn:xmpp:idle:1/);
  }, 120_000);

  it('attaches to parley daemon; when the daemon is killed the client says the core stopped and exits with code 8', async () => {
    const home = await homeFor('alice', 'killed');
    const daemon = running(home, ['daemon']);
    await daemon.waitFor(() => /xmpp:alice@localhost online/.test(daemon.stderr) || undefined, 'alice online', 30_000);
    const t = terminal(home);
    await t.see(`Attached to the Parley core of pid ${daemon.child.pid} (daemon)`);
    await t.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);
    expect(await aliceSessions()).toEqual(['killed']);
    daemon.child.kill('SIGKILL');
    await t.see('parley: the Parley core stopped');
    await t.see('[exited 8]');
  }, 120_000);
});
