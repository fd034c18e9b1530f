import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeHome, startClient, startWorld, type Client, type World } from './helpers.js';

describe('timeline and mentions', () => {
  let world: World;
  let client: Client | undefined;

  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(async () => {
    await client?.shutdown();
    if (client) removeHome(client.home);
    client = undefined;
    await world.api.stop();
  });

  it('shows home timeline posts as messages from their authors, oldest first, then new ones as they come', async () => {
    const { store } = world.api.server;
    const tokens = world.api.server.issueOAuth2(world.alice.id, 'parley-test-client');
    store.post(world.bob.id, 'first from bob');
    store.post(world.carol.id, 'then carol &amp; friends');
    client = await startClient(world, { secrets: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } });
    await client.parley.accounts.connect(client.accountId);
    await client.waitFor(() => client!.lines('timeline').filter((m) => m.direction === 'incoming').length >= 2, 'the backlog');
    store.post(world.bob.id, 'a new one from bob');
    await client.waitFor(() => client!.lines('timeline').some((m) => m.text.includes('a new one')), 'the new post');
    const incoming = client.lines('timeline').filter((m) => m.direction === 'incoming');
    expect(incoming.map((m) => [m.sender, m.text.split('\n')[0]])).toEqual([
      ['bob', 'first from bob'],
      ['carol', 'then carol & friends'],
      ['bob', 'a new one from bob'],
    ]);
    expect(incoming[0]!.senderAlias).toBe('Bob B.');
    expect(incoming[0]!.text).toContain(`https://x.com/bob/status/${incoming[0]!.protocolId}`);
  });
});
