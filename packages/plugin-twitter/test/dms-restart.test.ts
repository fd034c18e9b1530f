import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_ID, removeHome, startClient, startWorld, type Client, type World } from './helpers.js';

describe('direct messages and restarts', () => {
  let world: World;
  const clients: Client[] = [];

  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) {
      await c.shutdown().catch(() => {});
      removeHome(c.home);
    }
    await world.api.stop();
  });

  async function connect(home?: string): Promise<Client> {
    const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
    const c = await startClient(world, home === undefined ? { secrets: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } } : { home, register: false });
    clients.push(c);
    await c.parley.accounts.connect(c.accountId);
    return c;
  }

  it('receives direct messages as IMs from their sender and sends replies', async () => {
    const { store } = world.api.server;
    const c = await connect();
    await c.waitFor(() => world.api.server.requestsTo('GET /2/dm_events').length >= 1, 'the first DM poll');
    store.sendDm(world.bob.id, world.alice.id, 'hi alice, it is bob');
    await c.waitFor(() => c.received.some((r) => r.conversation.kind === 'im'), 'the DM');
    const dm = c.received.find((r) => r.conversation.kind === 'im')!;
    expect(dm.conversation.name).toBe('bob');
    expect(dm.message).toMatchObject({ sender: 'bob', senderAlias: 'Bob B.', text: 'hi alice, it is bob' });
    await c.parley.conversations.sendIm(c.accountId, 'bob', 'hello bob, "quoted" & <tags>');
    const sent = store.dmEvents.at(-1)!;
    expect(sent).toMatchObject({ sender_id: world.alice.id, text: 'hello bob, "quoted" & <tags>', participant_ids: [world.alice.id, world.bob.id] });
    // To someone not followed: the handle is looked up first.
    const dave = store.addUser('dave', 'Dave');
    await c.parley.conversations.sendIm(c.accountId, 'dave', 'hi dave');
    expect(store.dmEvents.at(-1)).toMatchObject({ sender_id: world.alice.id, participant_ids: [world.alice.id, dave.id] });
    // A DM the user sent from another client appears as theirs; the ones sent here are not repeated.
    store.sendDm(world.alice.id, world.bob.id, 'sent from my phone');
    store.sendDm(world.bob.id, world.alice.id, 'and bob answers');
    await c.waitFor(() => c.received.some((r) => r.message.text === 'and bob answers'), 'the answer');
    const bobLines = c.lines('bob', 'im').filter((m) => !m.flags.system).map((m) => [m.direction, m.text]);
    expect(bobLines).toEqual([
      ['incoming', 'hi alice, it is bob'],
      ['outgoing', 'hello bob, "quoted" & <tags>'],
      ['outgoing', 'sent from my phone'],
      ['incoming', 'and bob answers'],
    ]);
  });

  it('fails a DM to an unknown user with the server’s reason', async () => {
    const c = await connect();
    const failed = new Promise<string>((resolve) => c.parley.events.on('messageFailed', (_m, _c, e) => resolve(e.message)));
    await c.parley.conversations.sendIm(c.accountId, 'nobody_here', 'hello?').catch(() => {});
    expect(await failed).toContain('Could not find user with username: [nobody_here]');
  });

  it('shows nothing twice after a restart, and what came in meanwhile once', async () => {
    const { store } = world.api.server;
    store.post(world.bob.id, 'old post');
    store.post(world.bob.id, '@alice old mention');
    store.sendDm(world.carol.id, world.alice.id, 'old dm');
    const first = await connect();
    await first.waitFor(
      () => first.received.some((r) => r.message.text === 'old dm') && first.lines('mentions').some((m) => m.text.startsWith('@alice old mention')) && first.lines('timeline').length >= 2,
      'everything once',
    );
    await first.shutdown();
    store.post(world.carol.id, 'new post while away');
    store.post(world.carol.id, '@alice new mention while away');
    store.sendDm(world.carol.id, world.alice.id, 'new dm while away');
    const second = await connect(first.home);
    await second.waitFor(
      () => second.received.some((r) => r.message.text === 'new dm while away') && second.lines('mentions').some((m) => m.text.startsWith('@alice new mention')),
      'the new items',
    );
    // Let a few more polls pass: nothing old may come back.
    const polls = world.api.server.requests.length;
    await second.waitFor(() => world.api.server.requests.length >= polls + 9, 'more polls');
    const texts = second.received.map((r) => r.message.text.split('\n')[0]);
    expect(texts.filter((t) => t === 'old post' || t === '@alice old mention' || t === 'old dm')).toEqual([]);
    expect(texts.filter((t) => t === 'new post while away')).toHaveLength(1);
    expect(texts.filter((t) => t === '@alice new mention while away')).toHaveLength(2); // timeline and mentions
    expect(texts.filter((t) => t === 'new dm while away')).toHaveLength(1);
  });
});
