import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProsody, type TestProsody } from '../../../test/servers/prosody.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { binary, cliEnv, ensureBuilt, runParley, RunningParley } from './helpers.js';
import { TmuxTerminal } from './tmux.js';

let prosody: TestProsody;
let terminal: TmuxTerminal | undefined;
let bobWatch: RunningParley | undefined;

beforeAll(async () => {
  ensureBuilt('plugin-xmpp');
  prosody = await startTestProsody({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
  await prosody.stop();
  prosody.writeRoster('alice', [{ jid: 'bob@localhost', name: 'Bob', groups: ['Friends'] }]);
  prosody.writeRoster('bob', [{ jid: 'alice@localhost', name: 'Alice', groups: ['Friends'] }]);
  await prosody.start();
});
afterAll(async () => {
  terminal?.close();
  bobWatch?.child.kill('SIGKILL');
  await prosody?.stop();
});

/** Bob, on the command line: his own PARLEY_HOME that trusts the test CA. */
async function bobHome(resource: string): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = tempHome('parley-bob-');
  const env = { NODE_EXTRA_CA_CERTS: prosody.certificates.caCertPath };
  const added = await runParley(home, ['accounts', 'add', 'xmpp', 'bob@localhost', '--set', 'server=127.0.0.1', '--set', `port=${prosody.port}`, '--set', `resource=${resource}`, '--password-stdin'], { input: 'bob-pw\n', env });
  expect(added.code, added.stderr).toBe(0);
  return { home, env };
}

describe('parley in a real terminal against a real Prosody', () => {
  it('adds an XMPP account, trusts the certificate by its fingerprint, sees a buddy come online, chats and searches history', async () => {
    const home = tempHome('parley-alice-');
    terminal = new TmuxTerminal([process.execPath, binary], cliEnv(home), { columns: 180, rows: 40 });
    const t = terminal;
    await t.see('Welcome to Parley');
    await t.focus('XMPP (xmpp)');
    t.press('Enter');
    await t.see('Add a XMPP account');
    t.type('alice@localhost');
    await t.focus('Password*:');
    t.type('alice-pw');
    const masked = await t.see('Password*: ••••••••');
    expect(masked).not.toContain('alice-pw');
    await t.focus('▸ Advanced options');
    t.press('Enter');
    await t.focus('Connect server:');
    t.type('127.0.0.1');
    await t.focus('Connect port:');
    t.press('BSpace');
    t.type(String(prosody.port));
    await t.see(`Connect port: ${prosody.port}`);
    t.press('C-s');

    // The test CA is not trusted: the core asks, showing the certificate's fingerprint.
    const warning = await t.see('Certificate warning');
    expect(warning).toContain('Trust the certificate of');
    const fingerprint = new X509Certificate(prosody.certificates.cert).fingerprint256;
    expect(warning.replace(/[│\s]+/g, ' ')).toContain(`SHA-256 fingerprint: ${fingerprint}`);
    t.type('y');
    await t.see(/xmpp:alice@localhost\s*│\s*\n│\s+online/);
    await t.see(/○ Bob/);

    const bob = await bobHome('watch');
    bobWatch = new RunningParley(bob.home, ['watch', '--json'], bob.env);
    await bobWatch.waitFor(() => bobWatch!.json().find((e) => e.type === 'account' && e.state === 'online'), 'bob online', 20_000);
    await t.see(/● Bob/);

    const phone = await bobHome('phone');
    const sent = await runParley(phone.home, ['send', 'xmpp:bob@localhost', 'alice@localhost', 'hi alice, from the terminal test'], { env: phone.env });
    expect(sent.code, sent.stderr).toBe(0);
    await t.see('2:Bob(1)');
    t.press('C-n');
    await t.see('hi alice, from the terminal test');

    t.type('hello bob');
    t.press('Enter');
    await bobWatch.waitFor(() => bobWatch!.json().find((e) => e.type === 'message' && e.direction === 'incoming' && e.text === 'hello bob'), 'bob receives', 20_000);
    await t.see('<alice@localhost> hello bob');

    t.type('/search terminal test');
    t.press('Enter');
    await t.see('History: 1 message with "terminal test"');
    // The result line may wrap: compare the words, not the layout.
    expect(t.screen().replace(/[│\s]+/g, ' ')).toContain('xmpp:alice@localhost bob@localhost <bob@localhost> hi alice, from the terminal test');

    // A script on alice's home goes through the running client: no second session replaces it.
    const owner = JSON.parse((await runParley(home, ['daemon', 'status', '--json'])).stdout) as { kind: string; accounts: Array<{ state: string }> };
    expect(owner).toMatchObject({ kind: 'interactive', accounts: [{ state: 'online' }] });
    const scripted = await runParley(home, ['send', 'xmpp:alice@localhost', 'bob@localhost', 'from a script beside the client']);
    expect(scripted, scripted.stderr).toMatchObject({ code: 0, stdout: 'Sent to bob@localhost\n' });
    await bobWatch.waitFor(() => bobWatch!.json().find((e) => e.type === 'message' && e.text === 'from a script beside the client'), 'bob receives the scripted message', 20_000);
    await t.see('<alice@localhost> from a script beside the client');
    const phoneSays = await runParley(phone.home, ['send', 'xmpp:bob@localhost', 'alice@localhost', 'still with us?'], { env: phone.env });
    expect(phoneSays.code, phoneSays.stderr).toBe(0);
    await t.see('still with us?');
    expect(t.screen()).not.toContain('Signed in elsewhere');
    const second = await runParley(home, ['daemon']);
    expect(second.code).toBe(9);

    t.type('/quit');
    t.press('Enter');
    await t.see('[exited 0]');
  }, 240_000);
});
