import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { connectToParley, elect, inProcessClient, UiRelay, type Parley, type ParleyClient } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer, type LoopbackServerApi } from '../../../../test/helpers/loopback.js';
import { tempHome } from '../../../../test/helpers/temp.js';
import { RecordingUi } from '../../../../test/helpers/recording-ui.js';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from './app.js';
import { CoreMirror } from './core-mirror.js';
import { ClientModel } from './model.js';
import { PromptQueue } from './prompts.js';

const KEYS = { ctrlT: '\u0014', enter: '\r', up: '\u001b[A', down: '\u001b[B', tab: '\t', escape: '\u001b', ctrlN: '\u000e', ctrlP: '\u0010', ctrlB: '\u0002', ctrlS: '\u0013', backspace: '\u007f' };

let server: LoopbackServerApi;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  server = await startServer({ alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', newbie: 'newbie-pw' }, { alice: [{ name: 'bob', alias: 'Bob', groups: ['Friends'] }] });
});
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});
afterAll(async () => {
  await server?.stop();
});

async function until(check: () => boolean, what: string, frame: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${frame() ?? ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Placement = 'in this process' | 'in the home\'s owner';
let placement: Placement = 'in this process';

/** The core beside the client, or in a process that owns the home with the client attached to it over the socket. */
async function core(prompts: PromptQueue): Promise<{ parley: Parley; client: ParleyClient }> {
  if (placement === 'in this process') {
    const { parley } = await loopbackParley({ ui: prompts });
    cleanup.push(() => parley.shutdown());
    return { parley, client: inProcessClient(parley) };
  }
  const home = tempHome('parley-tui-');
  const election = await elect({ home });
  if (election.role !== 'owner') throw new Error('expected to own a fresh home');
  const relay = new UiRelay(undefined);
  const { parley } = await loopbackParley({ home, ui: relay });
  cleanup.push(() => parley.shutdown());
  cleanup.push(() => election.claim.release());
  await election.claim.serve(parley, { kind: 'test', relay });
  const remote = await connectToParley({ home, ui: prompts });
  cleanup.push(() => remote.close());
  return { parley, client: remote };
}

async function client(setup?: (parley: Parley) => Promise<void>) {
  const prompts = new PromptQueue();
  const { parley, client: parleyClient } = await core(prompts);
  if (setup !== undefined) await setup(parley);
  const mirror = await CoreMirror.open(parleyClient);
  const model = new ClientModel(mirror, prompts, { userPlugins: parley.paths.userPlugins });
  const ui = render(<App model={model} />);
  cleanup.push(async () => {
    ui.unmount();
    model.dispose();
    mirror.close();
  });
  const frame = () => ui.lastFrame() ?? '';
  const see = (text: string | RegExp) => until(() => (typeof text === 'string' ? frame().includes(text) : text.test(frame())), `"${String(text)}" on screen`, frame);
  // Each write is one read from the terminal; a pause lets ink handle it before the next.
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      ui.stdin.write(key);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { parley, model, prompts, ui, frame, see, press };
}

/** Another user on the loopback server, through a second core. */
async function peer(user: string, password: string) {
  const { parley } = await loopbackParley();
  const account = await addLoopbackAccount(parley, server.port, user, password);
  await parley.accounts.connect(account.id);
  cleanup.push(() => parley.shutdown());
  return { parley, account };
}

/** A peer that answers file offers with `answer`, and keeps what it receives in `downloads`. */
async function filePeer(user: string, password: string, answer: string | undefined) {
  const downloads = join(tempHome('parley-tui-peer-'), 'Downloads');
  const ui = new RecordingUi((_request, context) => (context.purpose === 'file-transfer' ? answer : undefined));
  const { parley } = await loopbackParley({ ui, transfers: { downloadDir: downloads } });
  const account = await addLoopbackAccount(parley, server.port, user, password);
  await parley.accounts.connect(account.id);
  cleanup.push(() => parley.shutdown());
  return { parley, account, downloads };
}

describe.each<Placement>(['in this process', 'in the home\'s owner'])('the interactive client, its core %s', (where) => {
  beforeAll(() => {
    placement = where;
  });

  it('guides a first run to an account form drawn from the plugin schema, with the password masked, and signs the new account on', async () => {
    const c = await client();
    await c.see('Welcome to Parley');
    expect(c.frame()).toContain('Loopback (loopback)');
    await c.press(KEYS.enter);
    await c.see('Add a Loopback account');
    // Basic options first; the advanced ones wait behind their toggle.
    expect(c.frame()).toContain('User*:');
    expect(c.frame()).toContain('Password*:');
    expect(c.frame()).toContain('▸ Advanced options');
    expect(c.frame()).not.toContain('Port');
    await c.press('newbie', KEYS.down, KEYS.down, 'newbie-pw');
    await c.see('Password*: •••••••••');
    expect(c.frame()).not.toContain('newbie-pw');
    await c.press(KEYS.down, KEYS.enter);
    await c.see('Port*:');
    expect(c.frame()).toContain('Host: 127.0.0.1');
    await c.press(KEYS.ctrlS);
    await c.see('Port is required');
    await c.press(KEYS.down, KEYS.down);
    await c.press('0', KEYS.ctrlS);
    await c.see('Setting "port" must be at least 1');
    await c.press(KEYS.backspace, String(server.port), KEYS.ctrlS);
    await c.see(/newbie\s*│?\s*\n.*online/);
    const [account] = c.parley.accounts.list();
    expect(account).toMatchObject({ protocol: 'loopback', username: 'newbie' });
    expect(c.parley.accounts.settings(account!.id)).toEqual({ host: '127.0.0.1', port: server.port });
    expect(c.parley.accounts.status(account!.id).state).toBe('online');
  });

  it('shows the buddy list with presence, opens a tab for an incoming message with its unread count, and sends from the input line', async () => {
    const c = await client(async (parley) => {
      await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
    });
    void c.model.connectAll();
    await c.see('Friends');
    await c.see(/○ Bob/);
    const bob = await peer('bob', 'bob-pw');
    await c.see(/● Bob/);
    await bob.parley.conversations.sendIm(bob.account.id, 'alice', 'hi alice');
    await c.see('2:Bob(1)');
    expect(c.frame()).toMatch(/Bob \(1\)/);
    await c.press(KEYS.ctrlN);
    await c.see('<bob> hi alice');
    // Shown, so read: the count is the core's, and it drops once the core has it.
    await until(() => !c.frame().includes('2:Bob(1)'), 'the unread count to drop', c.frame);
    expect(c.parley.conversations.list().map((conversation) => conversation.unread)).toEqual([0]);
    const received = new Promise<string>((resolve) => bob.parley.events.on('messageReceived', (m) => resolve(m.text)));
    await c.press('hello ', 'bob', KEYS.enter);
    expect(await received).toBe('hello bob');
    await c.see('<alice> hello bob');
    // History: Up brings the line back.
    await c.press(KEYS.up);
    await c.see('[Bob] hello bob');
    await c.press('\u0015', '/me waves', KEYS.enter);
    await c.see('* alice waves');
    await c.press(KEYS.ctrlP);
    await c.see('1:status');
  });

  it('says who is typing in a group chat, and tells the room when the user types there', async () => {
    const c = await client(async (parley) => {
      await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
    });
    await c.model.connectAll();
    const [alice] = c.parley.accounts.list();
    await c.parley.chats.join(alice!.id, 'typers');
    await c.see('typers');
    const bob = await peer('bob', 'bob-pw');
    const bobRoom = await bob.parley.chats.join(bob.account.id, 'typers');
    await until(() => c.parley.conversations.find(alice!.id, 'chat', 'typers')!.participants.has('bob'), 'bob in the room', c.frame);
    await bob.parley.conversations.setTyping(bobRoom.id, 'typing');
    await c.see('bob is typing…');
    const heard = new Promise<string>((resolve) => bob.parley.events.on('chatTypingChanged', (_c, nick, state) => resolve(`${nick}:${state}`)));
    await c.press('hel');
    expect(await heard).toBe('alice:typing');
    await bob.parley.conversations.send(bobRoom.id, 'typed');
    await c.see('<bob> typed');
    await until(() => !c.frame().includes('is typing'), "bob's typing line to go", c.frame);
  });

  it('/more asks the core for older messages of the conversation, and says why when there are none to ask for', async () => {
    const c = await client(async (parley) => {
      const account = await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
      await parley.accounts.connect(account.id);
    });
    await c.press('/more', KEYS.enter);
    await c.see('/more works in a conversation window');
    await c.press('/query bob', KEYS.enter);
    await c.see('[Bob]');
    await c.press('/more 0', KEYS.enter);
    await c.see('Usage: /more [count], a count from 1 to 200');
    // The loopback protocol keeps no archive: the core's answer, through the remote protocol too.
    await c.press('/more', KEYS.enter);
    await c.see('This protocol keeps no archive to fetch older messages from');
  });

  it('/help lists the core, plugin and client commands; Tab completes commands and buddy names; /win switches windows', async () => {
    const c = await client(async (parley) => {
      const account = await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
      await parley.accounts.connect(account.id);
    });
    await c.press('/he', KEYS.tab);
    await c.see('[status] /help');
    await c.press(KEYS.enter);
    await c.see('/win <number|name|next|prev>');
    expect(c.frame()).toContain('/ping — Ask the loopback server for an error line');
    expect(c.frame()).toContain('/status <status> [message]');
    await c.press('/query b', KEYS.tab);
    await c.see('[status] /query bob');
    await c.press(KEYS.enter);
    await c.see('1:status  2:Bob');
    await c.press('/win 1', KEYS.enter);
    await c.see('[status]');
    await c.press('/win bob', KEYS.enter);
    await c.see('[Bob]');
    await c.press('/nonsense', KEYS.enter);
    await c.see('Unknown command /nonsense; /help lists them');
  });

  it('asks the core\'s questions: a certificate with its fingerprint, a masked password; Escape declines', async () => {
    const c = await client();
    await c.press(KEYS.escape);
    const trust = c.prompts.request(
      { kind: 'confirm', title: 'Trust the certificate of chat.example?', message: 'The certificate could not be verified.', default: false, details: { host: 'chat.example', 'SHA-256 fingerprint': 'AB:CD:EF:01' } },
      { purpose: 'certificate-trust', accountId: 'nobody' },
    );
    await c.see('Certificate warning');
    expect(c.frame()).toContain('SHA-256 fingerprint: AB:CD:EF:01');
    expect(c.frame()).toContain('[y/N]');
    await c.press('y');
    expect(await trust).toBe(true);
    const password = c.prompts.request({ kind: 'input', title: 'Password for alice', secret: true }, { purpose: 'password' });
    await c.see('Password needed');
    await c.press('s3cret');
    await c.see('> ••••••');
    expect(c.frame()).not.toContain('s3cret');
    await c.press(KEYS.enter);
    expect(await password).toBe('s3cret');
    const declined = c.prompts.request({ kind: 'confirm', title: 'carol wants to add you to their buddy list' }, { purpose: 'authorization' });
    await c.see('Authorization request');
    await c.press(KEYS.escape);
    expect(await declined).toBe(false);
    await until(() => !c.frame().includes('Authorization request'), 'prompt gone', c.frame);
  });

  it('shows a sign-in failure with the server\'s own text and the account\'s error state', async () => {
    const c = await client(async (parley) => {
      await addLoopbackAccount(parley, server.port, 'carol', 'not-carols-password');
    });
    await c.model.connectAll();
    await c.see('loopback:carol: not signed in');
    expect(c.frame()).toContain('server said: Wrong password');
    expect(c.frame()).toContain('(authentication-failed)');
    await c.see('error: Wrong password');
  });

  it('/file sends a file in the conversation; the transfers window (Ctrl-T) shows it done', async () => {
    const c = await client(async (parley) => {
      const account = await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
      await parley.accounts.connect(account.id);
    });
    const bob = await filePeer('bob', 'bob-pw', 'accept');
    const path = join(tempHome('parley-tui-file-'), 'slides.pdf');
    writeFileSync(path, randomBytes(300_000));
    await c.press('/query bob', KEYS.enter);
    await c.see('[Bob]');
    await c.press(`/file ${path}`, KEYS.enter);
    await c.see('Offering slides.pdf (293 KiB) to bob');
    await c.see('Sent slides.pdf (293 KiB) to bob');
    // The sender is done when its last byte left; the receiver, once it checked and named the file.
    await until(() => bob.parley.transfers.list().some((t) => t.state === 'done'), 'bob to have the file', c.frame);
    expect(readFileSync(join(bob.downloads, 'slides.pdf'))).toEqual(readFileSync(path));
    await c.press(KEYS.ctrlT);
    await c.see('File transfers');
    await c.see(/↑ slides\.pdf to bob done, 293 KiB/);
    await c.press(KEYS.escape);
    await c.see('[Bob]');
    await c.press('/file /nonexistent/x.bin', KEYS.enter);
    await c.see('Cannot send /nonexistent/x.bin');
  });

  it('asks about an offered file; Escape leaves it for the transfers window, where d declines and Enter accepts', async () => {
    const c = await client(async (parley) => {
      const account = await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
      await parley.accounts.connect(account.id);
    });
    const bob = await filePeer('bob', 'bob-pw', undefined);
    const send = async (name: string, content: string) => {
      const path = join(tempHome('parley-tui-offer-'), name);
      writeFileSync(path, content);
      return bob.parley.transfers.send(bob.account.id, 'alice', path);
    };
    const first = await send('notes.txt', 'first notes');
    await c.see('File offered');
    expect(c.frame()).toContain('bob wants to send you notes.txt (11 B)');
    await c.press(KEYS.enter);
    expect((await bob.parley.transfers.settled(first.id)).state).toBe('done');
    await until(() => c.parley.transfers.list().some((t) => t.state === 'done'), 'the file to be saved', c.frame);
    const received = c.parley.transfers.list().find((t) => t.direction === 'incoming' && t.state === 'done')!;
    expect(readFileSync(received.path!, 'utf8')).toBe('first notes');

    const second = await send('later.txt', 'not now');
    await c.see('bob wants to send you later.txt');
    await c.press(KEYS.escape);
    await until(() => !c.frame().includes('File offered'), 'the prompt to go', c.frame);
    await c.press(KEYS.ctrlT);
    await c.see(/↓ later\.txt from bob offered, 7 B: Enter accepts, d declines/);
    await c.press('d');
    expect(await bob.parley.transfers.settled(second.id)).toMatchObject({ state: 'cancelled', reason: 'declined' });
    await c.see(/↓ later\.txt from bob declined by you/);

    const third = await send('accepted.txt', 'from the window');
    await c.see('bob wants to send you accepted.txt');
    await c.press(KEYS.escape);
    await c.see(/↓ accepted\.txt from bob offered/);
    await c.press(KEYS.enter);
    expect((await bob.parley.transfers.settled(third.id)).state).toBe('done');
    await c.see(/↓ accepted\.txt from bob done, 15 B: /);
  });

  it('edits an account from the same form: the stored password stays unless replaced', async () => {
    const c = await client(async (parley) => {
      await addLoopbackAccount(parley, server.port, 'alice', 'alice-pw');
    });
    const id = c.parley.accounts.list()[0]!.id;
    await c.press(`/account edit ${id}`, KEYS.enter);
    await c.see('Edit loopback:alice');
    expect(c.frame()).toContain('(stored; type to replace)');
    await c.press('Work', KEYS.ctrlS);
    await c.see('[status]');
    expect(c.parley.accounts.get(id).alias).toBe('Work');
    await c.parley.accounts.connect(id);
    expect(c.parley.accounts.status(id).state).toBe('online');
  });
});
