import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type LoopbackServerApi } from '../../../test/helpers/loopback.js';
import { filesContaining, tempHome } from '../../../test/helpers/temp.js';
import { DEFAULT_WAIT_MS, until } from '../../../test/helpers/wait.js';
import { ensureBuilt, homeWithLoopback, LoopbackPeer, packageDir, runParley, RunningParley } from './helpers.js';

const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;

let server: LoopbackServerApi;
const running: RunningParley[] = [];
const peers: LoopbackPeer[] = [];

beforeAll(async () => {
  ensureBuilt();
  // Each test signs in as its own users: one login replaces another on this server.
  const users: Record<string, string> = { bob: 'bob-pw', carol: 'carol-pw' };
  for (const name of ['alice', 'watcher', 'filtered', 'sender', 'status']) users[name] = 'alice-pw';
  const roster = [{ name: 'bob', alias: 'Bob', groups: ['Friends'] }, { name: 'carol', groups: ['Friends'] }];
  server = await startServer(users, { watcher: roster });
});
afterEach(() => {
  for (const r of running.splice(0)) r.child.kill('SIGKILL');
  for (const p of peers.splice(0)) p.close();
});
afterAll(async () => {
  await server?.stop();
});

async function addAlice(home: string, password = 'alice-pw', user = 'alice'): Promise<string> {
  const added = await runParley(home, ['accounts', 'add', 'loopback', user, '--set', `port=${server.port}`, '--password-stdin', '--json'], { input: `${password}\n` });
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  return (JSON.parse(added.stdout) as { id: string }).id;
}

describe('parley scripting commands', () => {
  it('--version and --help answer without any configuration, and unknown commands exit 2', async () => {
    const home = tempHome();
    const v = await runParley(home, ['--version']);
    expect(v).toMatchObject({ code: 0, stdout: `parley ${version}\n` });
    const help = await runParley(home, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('accounts check <account>');
    expect(help.stdout).toContain('4  sign-in failed');
    const sub = await runParley(home, ['watch', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--count N');
    const unknown = await runParley(home, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    const badOption = await runParley(home, ['accounts', 'list', '--bogus']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("Unknown option '--bogus'");
  });

  it('lists plugins and accounts without loading any protocol plugin code', async () => {
    const home = homeWithLoopback();
    const marker = join(home, 'plugin-was-imported');
    const index = join(home, 'plugins', 'node_modules', 'parley-plugin-loopback', 'index.js');
    writeFileSync(index, `import { writeFileSync as markImported } from 'node:fs';\nif (process.env.PARLEY_TEST_MARKER) markImported(process.env.PARLEY_TEST_MARKER, 'imported');\n${readFileSync(index, 'utf8')}`);
    const env = { PARLEY_TEST_MARKER: marker };
    await addAlice(home);
    for (const args of [['--version'], ['--help'], ['accounts', 'list'], ['plugins', 'list'], ['plugins', 'list', '--json'], ['accounts', 'list', '--json']]) {
      const run = await runParley(home, args, { env });
      expect(run.code, args.join(' ')).toBe(0);
    }
    expect(existsSync(marker)).toBe(false);

    const plugins = JSON.parse((await runParley(home, ['plugins', 'list', '--json'])).stdout) as Array<Record<string, any>>;
    const loopback = plugins.find((p) => p.id === 'loopback')!;
    expect(loopback).toMatchObject({ kind: 'protocol', status: 'available', packageName: 'parley-plugin-loopback' });
    expect(Object.keys(loopback.protocol.options)).toEqual(['password', 'host', 'port', 'proxy', 'proxyPassword']);

    // Signing in is what loads it.
    const check = await runParley(home, ['accounts', 'check', 'loopback:alice'], { env });
    expect(check.code).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe('imported');
  });

  it('adds, changes, disables and removes accounts; the password comes from stdin and is never stored in the clear', async () => {
    const home = homeWithLoopback();
    const id = await addAlice(home, 'alice-pw');
    const listed = JSON.parse((await runParley(home, ['accounts', 'list', '--json'])).stdout) as Array<Record<string, any>>;
    expect(listed).toEqual([{ id, protocol: 'loopback', username: 'alice', enabled: true, settings: { host: '127.0.0.1', port: server.port } }]);
    expect(filesContaining(home, 'alice-pw')).toEqual([]);

    const table = await runParley(home, ['accounts', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^ID +ACCOUNT +ALIAS +ENABLED\\n${id} +loopback:alice +yes\\n$`));

    const set = await runParley(home, ['accounts', 'set', 'loopback:alice', 'host=localhost', '--alias', 'Work']);
    expect(set).toMatchObject({ code: 0, stdout: 'Updated loopback:alice\n' });
    const disabled = await runParley(home, ['accounts', 'disable', id, '--json']);
    expect(JSON.parse(disabled.stdout)).toMatchObject({ id, alias: 'Work', enabled: false, settings: { host: 'localhost', port: server.port } });
    const unset = await runParley(home, ['accounts', 'set', id, '--unset', 'host']);
    expect(unset.code).toBe(0);
    const enabled = await runParley(home, ['accounts', 'enable', id, '--json']);
    expect(JSON.parse(enabled.stdout)).toMatchObject({ enabled: true, settings: { host: '127.0.0.1' } });

    const removed = await runParley(home, ['accounts', 'remove', 'loopback:alice']);
    expect(removed).toMatchObject({ code: 0, stdout: 'Removed loopback:alice\n' });
    expect(JSON.parse((await runParley(home, ['accounts', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('config set proxy keeps the proxy password out of config.json and out of every answer; a bad value exits 3', async () => {
    const home = homeWithLoopback();
    const set = await runParley(home, ['config', 'set', 'proxy', 'http://carol@127.0.0.1:3128', '--password-stdin'], { input: 'proxy-pw-123\n' });
    expect(set).toMatchObject({ code: 0, stdout: 'proxy: http://carol@127.0.0.1:3128 (password in the secret store)\n' });
    const got = await runParley(home, ['config', 'get', 'proxy', '--json']);
    expect(JSON.parse(got.stdout)).toEqual({ proxy: { value: 'http://carol@127.0.0.1:3128', source: 'config', passwordStored: true } });
    // Written into the URL, it is moved to the secret store the same way.
    const inline = await runParley(home, ['config', 'set', 'proxy', 'socks5h://dave:inline-pw-456@127.0.0.1:1080']);
    expect(inline.stdout).toBe('proxy: socks5h://dave@127.0.0.1:1080 (password in the secret store)\n');
    expect(filesContaining(home, 'proxy-pw-123')).toEqual([]);
    expect(filesContaining(home, 'inline-pw-456')).toEqual([]);

    const bad = await runParley(home, ['config', 'set', 'proxy', 'gopher://127.0.0.1:70']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('Unsupported proxy kind "gopher"');
    expect((await runParley(home, ['config', 'get', 'proxy'])).stdout).toBe('proxy: socks5h://dave@127.0.0.1:1080 (password in the secret store)\n');
    const unknown = await runParley(home, ['config', 'set', 'colour', 'blue']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown setting "colour"');
  });

  it('refuses bad account input with exit codes that tell the cases apart', async () => {
    const home = homeWithLoopback();
    await addAlice(home);
    const secretInArgv = await runParley(home, ['accounts', 'add', 'loopback', 'bob', '--set', 'password=bob-pw']);
    expect(secretInArgv.code).toBe(2);
    expect(secretInArgv.stderr).toContain('"password" is a secret: it is never taken from the command line');
    const unknownProtocol = await runParley(home, ['accounts', 'add', 'nope', 'bob']);
    expect(unknownProtocol.code).toBe(3);
    expect(unknownProtocol.stderr).toContain('Unknown protocol "nope"');
    expect(unknownProtocol.stderr).toContain('loopback');
    const badPort = await runParley(home, ['accounts', 'add', 'loopback', 'bob', '--set', 'port=99999']);
    expect(badPort.code).toBe(3);
    expect(badPort.stderr).toContain('Setting "port" must be at most 65535');
    const unknownKey = await runParley(home, ['accounts', 'set', 'loopback:alice', 'colour=blue']);
    expect(unknownKey.code).toBe(3);
    expect(unknownKey.stderr).toContain('Setting "colour" is not an option of this protocol');
    const duplicate = await runParley(home, ['accounts', 'add', 'loopback', 'ALICE', '--set', `port=${server.port}`]);
    expect(duplicate.code).toBe(3);
    const noAccount = await runParley(home, ['accounts', 'check', 'loopback:nobody']);
    expect(noAccount.code).toBe(3);
    expect(noAccount.stderr).toContain('No account "loopback:nobody"');
    const missingArg = await runParley(home, ['send', 'loopback:alice', 'bob']);
    expect(missingArg.code).toBe(2);
    // Changing a secret needs the store: a wrong passphrase is its own exit code.
    const wrongPassphrase = await runParley(home, ['accounts', 'set', 'loopback:alice', '--password-stdin'], { input: 'new-pw\n', env: { PARLEY_PASSPHRASE: 'not the passphrase' } });
    expect(wrongPassphrase.code).toBe(7);
    // Signing in with a locked store is a sign-in failure that says why.
    const locked = await runParley(home, ['accounts', 'check', 'loopback:alice'], { env: { PARLEY_PASSPHRASE: 'not the passphrase' } });
    expect(locked.code).toBe(4);
    expect(locked.stdout).toContain('passphrase');
  });

  it('accounts check: exit 0 when signed in, else the reason code and the server\'s own text', async () => {
    const home = homeWithLoopback();
    await addAlice(home);
    const ok = await runParley(home, ['accounts', 'check', 'loopback:alice']);
    expect(ok).toMatchObject({ code: 0, stdout: 'loopback:alice: online\n' });
    const okJson = await runParley(home, ['accounts', 'check', 'loopback:alice', '--json']);
    expect(JSON.parse(okJson.stdout)).toMatchObject({ label: 'loopback:alice', online: true });

    await addAlice(home, 'wrong', 'carol');
    const wrong = await runParley(home, ['accounts', 'check', 'loopback:carol']);
    expect(wrong.code).toBe(4);
    expect(wrong.stdout).toContain('loopback:carol: not signed in\n  Wrong password (authentication-failed)\n  server said: Wrong password');
    await addAlice(home, 'x', 'mallory');
    const unknown = await runParley(home, ['accounts', 'check', 'loopback:mallory', '--json']);
    expect(unknown.code).toBe(4);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ online: false, error: { reason: 'invalid-username', fatal: true, serverText: 'No such user mallory' } });

    const noPassword = await runParley(home, ['accounts', 'add', 'loopback', 'dave', '--set', `port=${server.port}`]);
    expect(noPassword.code).toBe(0);
    expect(noPassword.stderr).toContain('Not set yet: password');
    const missing = await runParley(home, ['accounts', 'check', 'loopback:dave', '--json']);
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stdout).error).toMatchObject({ reason: 'invalid-settings', message: 'Missing required setting: password' });
  });

  it('send delivers one message and puts it in the history that log search finds', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'alice-pw', 'sender');
    const bob = new LoopbackPeer(server.port, 'bob', 'bob-pw');
    peers.push(bob);
    await bob.login();
    const sent = await runParley(home, ['send', 'loopback:sender', 'bob', 'lunch', 'at', 'noon?', '--json']);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: true, to: 'bob' });
    await until(() => bob.received.some((m) => m.op === 'msg' && m.text === 'lunch at noon?'), DEFAULT_WAIT_MS, 'bob to receive the message');
    expect(bob.received.find((m) => m.op === 'msg' && m.text === 'lunch at noon?')).toMatchObject({ from: 'sender' });

    const found = await runParley(home, ['log', 'search', 'noon', '--peer', 'bob', '--since', '1h', '--json']);
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toEqual([expect.objectContaining({ peer: 'bob', direction: 'outgoing', sender: 'sender', text: 'lunch at noon?', accountLabel: 'loopback:sender' })]);
    const text = await runParley(home, ['log', 'search', 'lunch']);
    expect(text.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}loopback:sender {2}bob {2}<sender> lunch at noon\?\n$/);
    const none = await runParley(home, ['log', 'search', 'dinner']);
    expect(none).toMatchObject({ code: 1, stdout: '' });
    const future = await runParley(home, ['log', 'search', 'noon', '--since', '2999-01-01']);
    expect(future.code).toBe(1);
    const badSince = await runParley(home, ['log', 'search', 'noon', '--since', 'yesterday-ish']);
    expect(badSince.code).toBe(2);
    const past = await runParley(home, ['log', 'search', 'noon', '--until', '2001-01-01']);
    expect(past.code).toBe(1);
    const window = await runParley(home, ['log', 'search', 'noon', '--since', '1h', '--until', '2999-01-01', '--json']);
    expect(JSON.parse(window.stdout)).toEqual([expect.objectContaining({ text: 'lunch at noon?' })]);
    const backwards = await runParley(home, ['log', 'search', 'noon', '--since', '2999-01-01', '--until', '1h']);
    expect(backwards).toMatchObject({ code: 2, stderr: expect.stringContaining('--until is before --since') });

    const noSuchAccount = await runParley(home, ['send', 'loopback:carol', 'bob', 'hi']);
    expect(noSuchAccount.code).toBe(3);
  });

  it('send exits 4 with the reason when the account cannot sign in', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'not-her-password');
    const run = await runParley(home, ['send', 'loopback:alice', 'bob', 'hello']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('loopback:alice: not signed in\n  Wrong password (authentication-failed)');
    expect(server.received.some((m) => m.op === 'msg' && m.text === 'hello' && m.user === 'alice')).toBe(false);
  });

  it('status is saved and used when parley signs on', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'alice-pw', 'status');
    expect(await runParley(home, ['status'])).toMatchObject({ code: 0, stdout: 'available\n' });
    expect(await runParley(home, ['status', 'away', 'out', 'for', 'lunch'])).toMatchObject({ code: 0, stdout: 'away: out for lunch\n' });
    expect(JSON.parse((await runParley(home, ['status', '--json'])).stdout)).toEqual({ status: 'away', message: 'out for lunch' });
    expect((await runParley(home, ['status', 'sleepy'])).code).toBe(2);
    const before = server.received.length;
    expect((await runParley(home, ['accounts', 'check', 'loopback:status'])).code).toBe(0);
    expect(server.received.slice(before)).toContainEqual(expect.objectContaining({ op: 'presence', user: 'status', status: 'away', message: 'out for lunch' }));
  });

  it('watch prints messages, presence, typing and connection changes as JSON lines until --count', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'alice-pw', 'watcher');
    const watch = new RunningParley(home, ['watch', '--json', '--count', '8']);
    running.push(watch);
    await watch.waitFor(() => watch.json().find((e) => e.type === 'account' && e.state === 'online'), 'watcher online');
    const carol = new LoopbackPeer(server.port, 'carol', 'carol-pw');
    peers.push(carol);
    await carol.login();
    await watch.waitFor(() => watch.json().find((e) => e.type === 'presence' && e.buddy === 'carol' && e.status === 'available'), 'carol online');
    carol.typing('watcher', 'typing');
    await watch.waitFor(() => watch.json().find((e) => e.type === 'typing'), 'typing');
    carol.say('watcher', 'are you there?');
    expect(await watch.exited).toBe(0);
    const events = watch.json();
    // A message ends the sender's typing: the idle state comes first.
    expect(events.map((e) => e.type)).toEqual(['account', 'account', 'account', 'account', 'presence', 'typing', 'typing', 'message']);
    expect(events.slice(0, 4).map((e) => e.state)).toEqual(['connecting', 'connecting', 'connecting', 'online']);
    expect(events[1].progress).toEqual({ text: 'Connecting', step: 1, steps: 2 });
    expect(events[4]).toMatchObject({ buddy: 'carol', status: 'available' });
    expect(events[5]).toMatchObject({ accountLabel: 'loopback:watcher', peer: 'carol', state: 'typing' });
    expect(events[6]).toMatchObject({ peer: 'carol', state: 'idle' });
    expect(events[7]).toMatchObject({ type: 'message', direction: 'incoming', sender: 'carol', text: 'are you there?', conversation: { kind: 'im', name: 'carol' } });
  });

  it('watch --only filters types, prints plain lines without --json, and exits 6 when --timeout comes first', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'alice-pw', 'filtered');
    // Offline storage: the message waits on the server and arrives as soon as the watcher signs in.
    const carol = new LoopbackPeer(server.port, 'carol', 'carol-pw');
    peers.push(carol);
    await carol.login();
    carol.say('filtered', 'only one message');
    // Stored once the server has read it: the watcher's sign-in then finds it waiting.
    await until(() => server.received.some((m) => m.op === 'msg' && m.user === 'carol' && m.text === 'only one message'), DEFAULT_WAIT_MS, 'the server to store the message');
    // The timeout counts from the start, sign-in included: ten seconds leave a loaded machine time to sign in and deliver.
    const watch = new RunningParley(home, ['watch', 'loopback:filtered', '--only', 'message', '--count', '2', '--timeout', '10']);
    running.push(watch);
    expect(await watch.exited).toBe(6);
    expect(watch.lines()).toHaveLength(1);
    expect(watch.lines()[0]).toMatch(/^\[\d\d:\d\d\] loopback:filtered carol <carol> only one message$/);
  });

  it('watch exits 4 when no account can sign in', async () => {
    const home = homeWithLoopback();
    await addAlice(home, 'wrong');
    const watch = new RunningParley(home, ['watch']);
    running.push(watch);
    expect(await watch.exited).toBe(4);
    expect(watch.stdout).toContain('loopback:alice error: Wrong password');
  });
});
