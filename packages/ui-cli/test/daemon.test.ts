import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type LoopbackServerApi } from '../../../test/helpers/loopback.js';
import { binary, ensureBuilt, homeWithLoopback, LoopbackPeer, runParley, RunningParley } from './helpers.js';

let server: LoopbackServerApi;
const running: RunningParley[] = [];
const peers: LoopbackPeer[] = [];

beforeAll(async () => {
  ensureBuilt();
  const users: Record<string, string> = { bob: 'bob-pw' };
  for (const name of ['owned', 'watched', 'light', 'killed', 'stopper', 'toggled']) users[name] = 'alice-pw';
  server = await startServer(users);
});
afterEach(() => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
  for (const p of peers.splice(0)) p.close();
});
afterAll(async () => {
  await server?.stop();
});

async function addAccount(home: string, user: string): Promise<string> {
  const added = await runParley(home, ['accounts', 'add', 'loopback', user, '--set', `port=${server.port}`, '--password-stdin', '--json'], { input: 'alice-pw\n' });
  expect(added.code).toBe(0);
  return (JSON.parse(added.stdout) as { id: string }).id;
}

const logins = (user: string) => server.received.filter((m) => m.op === 'login' && m.user === user).length;

async function bobOnline(): Promise<LoopbackPeer> {
  const bob = new LoopbackPeer(server.port, 'bob', 'bob-pw');
  peers.push(bob);
  await bob.login();
  return bob;
}

async function startDaemon(home: string, args: string[] = []): Promise<RunningParley> {
  const daemon = new RunningParley(home, ['daemon', ...args]);
  running.push(daemon);
  await daemon.waitFor(() => /serving /.test(daemon.stderr) || undefined, 'the daemon to serve');
  return daemon;
}

describe('parley daemon and the commands that become its clients', () => {
  it('keeps one session while 20 sends, a status and a watch go through it; stops cleanly on request', async () => {
    const home = homeWithLoopback();
    await addAccount(home, 'owned');
    const bob = await bobOnline();
    const before = logins('owned');
    const daemon = await startDaemon(home);
    await daemon.waitFor(() => /loopback:owned online/.test(daemon.stderr) || undefined, 'the account online');

    const status = await runParley(home, ['daemon', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: daemon.child.pid, kind: 'daemon', accounts: [{ username: 'owned', state: 'online' }] });
    const run = join(home, 'run');
    expect(statSync(run).mode & 0o777).toBe(0o700);
    expect(statSync(join(run, 'parley.sock')).mode & 0o777).toBe(0o600);

    const watch = new RunningParley(home, ['watch', '--json']);
    running.push(watch);
    // Its first line says the account is online: it is attached and following the owner's events.
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'the watch attached');
    for (let i = 1; i <= 20; i++) {
      const sent = await runParley(home, ['send', 'loopback:owned', 'bob', `message ${i}`, '--json']);
      expect(sent.code).toBe(0);
    }
    const texts = () => bob.received.filter((m) => m.op === 'msg' && /^message \d+$/.test(String(m.text))).map((m) => m.text);
    const deadline = Date.now() + 15_000;
    while (texts().length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(texts()).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i + 1}`));
    const watched = () => watch.json().filter((e) => e.type === 'message');
    await watch.waitFor(() => (watched().length >= 20 ? true : undefined), '20 messages in watch');
    expect(watched().map((e) => e.text)).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i + 1}`));
    expect(logins('owned') - before).toBe(1);

    const found = await runParley(home, ['log', 'search', 'message', '--json', '--limit', '100']);
    expect(JSON.parse(found.stdout)).toHaveLength(20);
    expect((await runParley(home, ['accounts', 'check', 'loopback:owned'])).stdout).toBe('loopback:owned: online\n');
    expect(logins('owned') - before).toBe(1);

    const stop = await runParley(home, ['daemon', 'stop']);
    expect(stop).toMatchObject({ code: 0, stdout: `Stopped the Parley core (pid ${daemon.child.pid}).\n` });
    expect(await daemon.exited).toBe(0);
    expect(await watch.exited).toBe(8);
    expect(watch.stderr).toContain('The Parley core stopped');
    expect((await runParley(home, ['daemon', 'status'])).code).toBe(1);
  }, 300_000);

  it('a watch that owns the home stays signed in while a script sends through it', async () => {
    const home = homeWithLoopback();
    await addAccount(home, 'watched');
    const bob = await bobOnline();
    const before = logins('watched');
    const watch = new RunningParley(home, ['watch', '--json']);
    running.push(watch);
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'the watch online');
    const sent = await runParley(home, ['send', 'loopback:watched', 'bob', 'from a script']);
    expect(sent).toMatchObject({ code: 0, stdout: 'Sent to bob\n' });
    await watch.waitFor(() => watch.json().find((e) => e.type === 'message' && e.text === 'from a script'), 'the watch to show the sent message');
    bob.say('watched', 'still there?');
    await watch.waitFor(() => watch.json().find((e) => e.type === 'message' && e.text === 'still there?'), 'the next message to reach the watch');
    expect(logins('watched') - before).toBe(1);
    expect(watch.json().filter((e) => e.type === 'account').map((e) => e.state)).not.toContain('error');
    const status = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { kind: string; pid: number };
    expect(status).toMatchObject({ kind: 'watch', pid: watch.child.pid });
  }, 300_000);

  it('a send through the owner loads the bundled binary alone: no module of the core, of a plugin or of a library', async () => {
    const home = homeWithLoopback();
    await addAccount(home, 'light');
    const bob = await bobOnline();
    const daemon = await startDaemon(home);
    await daemon.waitFor(() => /loopback:light online/.test(daemon.stderr) || undefined, 'the account online');
    const log = join(home, 'modules.log');
    const recorder = new URL('fixtures/record-modules.mjs', import.meta.url).href;
    const sent = await runParley(home, ['send', 'loopback:light', 'bob', 'light as a feather', '--json'], { env: { NODE_OPTIONS: `--import=${recorder}`, PARLEY_TEST_MODULE_LOG: log } });
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: true });
    const deadline = Date.now() + 15_000;
    while (!bob.received.some((m) => m.op === 'msg' && m.text === 'light as a feather') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(bob.received.filter((m) => m.op === 'msg').map((m) => m.text)).toEqual(['light as a feather']);
    expect(readFileSync(log, 'utf8').split('\n').filter((l) => l !== '')).toEqual([pathToFileURL(binary).href]);
    // The message is the owner's like any other: in its history.
    const found = await runParley(home, ['log', 'search', 'feather', '--json']);
    expect((JSON.parse(found.stdout) as { text: string }[]).map((m) => m.text)).toEqual(['light as a feather']);
  }, 300_000);

  it('kill -9 of the owner: its clients exit 8, the next invocation owns the home, history is intact', async () => {
    const home = homeWithLoopback();
    await addAccount(home, 'killed');
    await bobOnline();
    const daemon = await startDaemon(home, ['--json']);
    await daemon.waitFor(() => daemon.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { message: string }).find((l) => l.message === 'loopback:killed online'), 'the account online');
    expect((await runParley(home, ['send', 'loopback:killed', 'bob', 'before the crash'])).code).toBe(0);
    const watch = new RunningParley(home, ['watch', '--json']);
    running.push(watch);
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'the watch attached');
    daemon.child.kill('SIGKILL');
    expect(await watch.exited).toBe(8);
    expect(watch.stderr).toBe('parley: The Parley core stopped\n');

    const found = await runParley(home, ['log', 'search', 'crash', '--json']);
    expect(JSON.parse(found.stdout)).toEqual([expect.objectContaining({ text: 'before the crash', direction: 'outgoing' })]);
    const next = await startDaemon(home);
    await next.waitFor(() => /loopback:killed online/.test(next.stderr) || undefined, 'the new owner online');
    const status = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { pid: number };
    expect(status.pid).toBe(next.child.pid);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    expect(next.stderr).toMatch(/stopping \(SIGTERM\): signing accounts off\n.*stopped\n$/s);
  }, 300_000);

  it('a second daemon exits 9; enable and disable are applied live by the owner', async () => {
    const home = homeWithLoopback();
    const id = await addAccount(home, 'toggled');
    const daemon = await startDaemon(home);
    await daemon.waitFor(() => /loopback:toggled online/.test(daemon.stderr) || undefined, 'the account online');
    const second = await runParley(home, ['daemon']);
    expect(second.code).toBe(9);
    expect(second.stderr).toContain(`already owned by pid ${daemon.child.pid} (daemon)`);

    expect((await runParley(home, ['accounts', 'disable', id])).code).toBe(0);
    await daemon.waitFor(() => /loopback:toggled offline/.test(daemon.stderr) || undefined, 'the account signed off');
    expect(JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout).accounts).toEqual([expect.objectContaining({ enabled: false, state: 'offline' })]);
    expect((await runParley(home, ['accounts', 'enable', id])).code).toBe(0);
    await daemon.waitFor(() => (daemon.stderr.match(/loopback:toggled online/g)?.length === 2 ? true : undefined), 'the account back online');
  }, 300_000);
});
