/**
 * An error the IRC plugin raises in its worker thread reaches the core's
 * thread with its class name, code and fields, as it would in process: a UI
 * switches on `code` the same way whichever isolation parley uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isParleyError, type Parley } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { IRC_ERROR_CODES } from '../src/index.js';
import { harness, rawClient, waitFor, type Harness, type RawClient } from './helpers.js';

let server: NgircdServer;
let inWorker: Harness;
let inProcess: Harness;
let owner: RawClient;
const accounts = new Map<Harness, string>();

beforeAll(async () => {
  server = await startNgircd();
  // A channel only invited users may join (RFC 2812 section 3.2.1, ERR_INVITEONLYCHAN 473).
  owner = await rawClient(server.port, 'chanowner', ['#closed']);
  owner.send('MODE #closed +i');
  await waitFor(() => owner.lines.find((l) => / MODE #closed \+i/i.test(l)), 'the channel to become invite-only');
  inWorker = await harness({ plugins: [], pluginModules: [new URL('../dist/index.js', import.meta.url).href], isolation: 'worker' });
  inProcess = await harness({ isolation: 'none' });
  for (const [h, nick] of [[inWorker, 'workerbee'], [inProcess, 'homebody']] as const) {
    const id = await h.account(nick, { server: '127.0.0.1', port: server.port, tls: false });
    await h.parley.accounts.connect(id);
    accounts.set(h, id);
  }
});

afterAll(async () => {
  owner?.close();
  await inWorker?.close();
  await inProcess?.close();
  await server?.close();
});

async function refusal(h: Harness, join: (parley: Parley, account: string) => Promise<unknown>): Promise<unknown> {
  try {
    await join(h.parley, accounts.get(h)!);
  } catch (error) {
    return error;
  }
  throw new Error('expected the join to fail');
}

describe('IRC errors raised in a worker thread', () => {
  it('keep their class name, code and numeric, as in process', async () => {
    const joinClosed = (parley: Parley, account: string) => parley.chats.join(account, '#closed');
    const [fromWorker, fromProcess] = [await refusal(inWorker, joinClosed), await refusal(inProcess, joinClosed)];
    for (const error of [fromWorker, fromProcess]) {
      expect(isParleyError(error, 'irc-server-refused')).toBe(true);
      expect(error).toMatchObject({ name: 'IrcError', code: 'irc-server-refused', numeric: '473' });
      expect(IRC_ERROR_CODES).toHaveProperty((error as { code: string }).code);
    }
    expect((fromWorker as Error).message).toBe((fromProcess as Error).message);
    expect(JSON.parse(JSON.stringify(fromWorker))).toEqual(JSON.parse(JSON.stringify(fromProcess)));
  });

  it('a refusal before anything is sent crosses the same way', async () => {
    const error = await refusal(inWorker, (parley, account) => parley.chats.join(account, 'no-channel-sign'));
    expect(isParleyError(error, ['irc-invalid-input', 'irc-timeout'])).toBe(true);
    expect(error).toMatchObject({ name: 'IrcError', code: 'irc-invalid-input' });
  });
});
