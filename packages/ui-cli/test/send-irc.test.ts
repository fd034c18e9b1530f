/**
 * `parley send` on IRC against ergo: a private message to a nick that is not
 * online is refused by the server (401 ERR_NOSUCHNICK) and must make the
 * command fail (exit 5) with the server's words, not print "Sent".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErgo, type ErgoServer } from '../../../test/servers/ergo.js';
import { tempHome } from '../../../test/helpers/temp.js';
import { rawClient } from '../../plugin-irc/test/helpers.js';
import { ensureBuilt, runParley } from './helpers.js';
import { EXIT } from '../src/cli/exit-codes.js';

let server: ErgoServer;

beforeAll(async () => {
  ensureBuilt('plugin-irc');
  server = await startErgo();
});
afterAll(async () => {
  await server?.close();
});

describe('parley send on IRC (ergo)', () => {
  it('exits 5 with the server text for a nick that is not online; exits 0 for one that is; the history keeps why it failed', async () => {
    const home = tempHome('parley-send-irc-');
    const added = await runParley(home, ['accounts', 'add', 'irc', 'alice@127.0.0.1', '--set', `port=${server.port}`, '--set', 'tls=false']);
    expect(added.code, added.stderr).toBe(0);

    const absent = await runParley(home, ['send', 'irc:alice@127.0.0.1', 'nobody', 'hello?']);
    expect(absent.code, absent.stdout + absent.stderr).toBe(EXIT.sendFailed);
    expect(absent.stdout).not.toMatch(/Sent/);
    expect(absent.stderr).toMatch(/Not sent to nobody: .*No such nick/i);

    const json = await runParley(home, ['send', 'irc:alice@127.0.0.1', 'nobody', 'again?', '--json']);
    expect(json.code).toBe(EXIT.sendFailed);
    expect(JSON.parse(json.stdout)).toMatchObject({ sent: false, to: 'nobody', error: { code: 'no-route', message: expect.stringMatching(/No such nick/i) } });

    const bob = await rawClient(server.port, 'bob');
    const present = await runParley(home, ['send', 'irc:alice@127.0.0.1', 'bob', 'hi bob']);
    expect(present.code, present.stderr).toBe(EXIT.ok);
    expect(bob.lines.some((l) => /PRIVMSG bob :hi bob$/.test(l))).toBe(true);
    bob.close();

    const log = await runParley(home, ['log', 'search', '--peer', 'nobody', '--json']);
    expect(log.code, log.stderr).toBe(0);
    const entries = JSON.parse(log.stdout) as Array<{ text: string; direction: string; flags: Record<string, boolean> }>;
    expect(entries.find((e) => e.direction === 'outgoing' && e.text === 'hello?')).toBeDefined();
    expect(entries.find((e) => e.flags.error === true && /No such nick/i.test(e.text) && e.text.includes('hello?'))).toBeDefined();
  });
});
