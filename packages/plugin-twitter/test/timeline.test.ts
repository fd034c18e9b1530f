import * as https from 'node:https';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_ID, removeHome, startClient, startWorld, type Client, type World } from './helpers.js';

describe('timeline, mentions, posting and following', () => {
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

  async function connect(settings: Record<string, unknown> = {}): Promise<Client> {
    const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
    client = await startClient(world, { secrets: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }, settings });
    await client.parley.accounts.connect(client.accountId);
    return client;
  }

  const incoming = (c: Client, room: string) => c.lines(room).filter((m) => m.direction === 'incoming' && !m.flags.system);

  it('shows home timeline posts as messages from their authors, oldest first, then new ones as they come', async () => {
    const { store } = world.api.server;
    store.post(world.bob.id, 'first from bob');
    store.post(world.carol.id, 'then carol &amp; friends');
    const c = await connect();
    await c.waitFor(() => incoming(c, 'timeline').length >= 2, 'the backlog');
    store.post(world.bob.id, 'a new one from bob');
    await c.waitFor(() => incoming(c, 'timeline').some((m) => m.text.includes('a new one')), 'the new post');
    const lines = incoming(c, 'timeline');
    expect(lines.map((m) => [m.sender, m.text.split('\n')[0]])).toEqual([
      ['bob', 'first from bob'],
      ['carol', 'then carol & friends'],
      ['bob', 'a new one from bob'],
    ]);
    expect(lines[0]!.senderAlias).toBe('Bob B.');
    expect(lines[0]!.flags.delayed).toBe(true);
    expect(lines[2]!.flags.delayed).toBeFalsy();
    expect(lines[0]!.text).toContain(`https://x.com/bob/status/${lines[0]!.protocolId}`);
    // Later polls ask only for what is newer than the last post shown.
    const sinceIds = () => world.api.server.requestsTo('GET /2/users/:id/timelines/reverse_chronological').map((r) => r.query.since_id);
    expect(sinceIds()[0]).toBeUndefined();
    const newest = lines[2]!.protocolId;
    expect(newest).toMatch(/^\d+$/);
    await c.waitFor(() => sinceIds().includes(newest!), 'a poll from the newest post on');
  });

  it('shows replies and quotes with their context', async () => {
    const { store } = world.api.server;
    const question = store.post(world.carol.id, 'what is parley?');
    store.post(world.bob.id, 'an IM client', { replyTo: question.id, quote: question.id });
    const c = await connect();
    await c.waitFor(() => incoming(c, 'timeline').length >= 2, 'the posts');
    const reply = incoming(c, 'timeline')[1]!;
    expect(reply.text).toContain(`↩ in reply to @carol (https://x.com/carol/status/${question.id})`);
    expect(reply.text).toContain('❝ @carol: what is parley? ❞');
    expect(reply.formatted?.html).toContain(`<a href="https://x.com/carol/status/${question.id}">`);
  });

  it('shows mentions in their own conversation, in order', async () => {
    const { store } = world.api.server;
    const stranger = store.addUser('dave', 'Dave');
    store.post(stranger.id, '@alice hello from someone you do not follow');
    const c = await connect();
    await c.waitFor(() => incoming(c, 'mentions').length >= 1, 'the first mention');
    store.post(world.bob.id, 'hey @alice, look');
    store.post(stranger.id, '@alice again');
    await c.waitFor(() => incoming(c, 'mentions').length >= 3, 'the new mentions');
    expect(incoming(c, 'mentions').map((m) => m.sender)).toEqual(['dave', 'bob', 'dave']);
    // A followed account's mention is in the timeline too; the stranger's is not.
    expect(incoming(c, 'timeline').map((m) => m.sender)).not.toContain('dave');
    const chats = c.parley.conversations.list().filter((v) => v.kind === 'chat').map((v) => [v.name, v.title]);
    expect(chats).toEqual(expect.arrayContaining([['timeline', 'Timeline'], ['mentions', 'Mentions']]));
  });

  it('shows posts longer than 280 characters whole, from note_tweet, in the timeline, mentions and quoted posts', async () => {
    const { store } = world.api.server;
    // Past character 280: a link and the end of the text, which the cut `text` does not have.
    const long = (who: string) => `${who} ${'lorem ipsum dolor sit amet '.repeat(11)}and the link https://example.com/long-read at the very end. THE END`;
    const timelinePost = store.post(world.bob.id, long('bob:'));
    store.post(world.carol.id, long('@alice carol:'));
    store.post(world.bob.id, 'quoting a long one', { quote: timelinePost.id });
    expect(Array.from(long('bob:')).length).toBeGreaterThan(300);
    const c = await connect();
    await c.waitFor(() => incoming(c, 'timeline').length >= 3 && incoming(c, 'mentions').length >= 1, 'the posts');
    const [whole, , quoting] = incoming(c, 'timeline');
    expect(whole!.text.split('\n')[0]).toBe(long('bob:'));
    expect(whole!.formatted?.html).toContain('<a href="https://example.com/long-read">');
    expect(incoming(c, 'mentions')[0]!.text.split('\n')[0]).toBe(long('@alice carol:'));
    expect(quoting!.text).toContain(`❝ @bob: ${long('bob:')} ❞`);
    // Every request for posts asked for note_tweet.
    for (const endpoint of ['GET /2/users/:id/timelines/reverse_chronological', 'GET /2/users/:id/mentions'] as const) {
      const asked = world.api.server.requestsTo(endpoint).map((r) => String(r.query['tweet.fields']).split(','));
      expect(asked.length).toBeGreaterThan(0);
      for (const fields of asked) expect(fields).toContain('note_tweet');
    }
  });

  it('the test server answers long posts as the API does: text cut to 280, the whole text in note_tweet only when asked', async () => {
    const { store } = world.api.server;
    const text = `${'x'.repeat(300)} https://example.com/end`;
    store.post(world.bob.id, text);
    const token = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID).accessToken;
    const read = async (fields: string) => {
      const url = `${world.api.url}/2/users/${world.alice.id}/timelines/reverse_chronological?tweet.fields=${fields}`;
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(url, { ca: world.api.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
            let text = '';
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve(text));
          })
          .on('error', reject);
      });
      return (JSON.parse(body) as { data: Array<Record<string, any>> }).data[0]!;
    };
    const plain = await read('entities');
    expect(Array.from(plain.text as string)).toHaveLength(280);
    expect(plain.note_tweet).toBeUndefined();
    expect(plain.entities).toEqual({});
    const asked = await read('entities,note_tweet');
    expect(asked.note_tweet.text).toBe(text);
    expect(asked.note_tweet.entities.urls[0].expanded_url).toBe('https://example.com/end');
  });

  it('publishes what the user writes in the Timeline, without echoing it back', async () => {
    const { store } = world.api.server;
    store.post(world.bob.id, 'hello timeline');
    const c = await connect();
    await c.waitFor(() => incoming(c, 'timeline').length >= 1, 'the backlog');
    const timeline = c.parley.conversations.find(c.accountId, 'chat', 'timeline')!;
    const sent = await c.parley.conversations.send(timeline.id, 'my first post via Parley {"x":1}\n/like 1');
    await c.waitFor(() => store.tweets.some((t) => t.author_id === world.alice.id), 'the post on the server');
    const mine = store.tweets.find((t) => t.author_id === world.alice.id)!;
    expect(mine.text).toBe('my first post via Parley {"x":1}\n/like 1');
    store.post(world.bob.id, 'after yours');
    await c.waitFor(() => incoming(c, 'timeline').some((m) => m.text.startsWith('after yours')), 'the next post');
    expect(incoming(c, 'timeline').filter((m) => m.protocolId === mine.id)).toEqual([]);
    expect(sent?.direction).toBe('outgoing');
  });

  it('/reply, /like and /repost act on a post by id or link', async () => {
    const { store } = world.api.server;
    const target = store.post(world.bob.id, 'reply to me');
    const c = await connect();
    await c.waitFor(() => incoming(c, 'timeline').length >= 1, 'the backlog');
    const timeline = c.parley.conversations.find(c.accountId, 'chat', 'timeline')!;
    const answer = await c.parley.runCommand(`/reply ${target.id} sure thing`, { conversationId: timeline.id });
    const reply = store.tweets.find((t) => t.author_id === world.alice.id)!;
    expect(reply.referenced_tweets).toEqual([{ type: 'replied_to', id: target.id }]);
    expect(reply.text).toBe('sure thing');
    expect(answer).toBe(`Replied: https://x.com/alice/status/${reply.id}`);
    await c.parley.runCommand(`/like https://x.com/bob/status/${target.id}`, { conversationId: timeline.id });
    expect(store.likes.get(world.alice.id)?.has(target.id)).toBe(true);
    await c.parley.runCommand(`/repost ${target.id}`, { conversationId: timeline.id });
    // The user's own repost comes back as theirs (sent from elsewhere), not as a stranger's post.
    await c.waitFor(() => c.lines('timeline').some((m) => m.text.startsWith('🔁 reposted @bob:\nreply to me')), 'the repost in the timeline');
    expect(c.lines('timeline').find((m) => m.text.startsWith('🔁'))).toMatchObject({ sender: 'alice', direction: 'outgoing' });
    await expect(c.parley.runCommand('/like not-a-post', { conversationId: timeline.id })).rejects.toMatchObject({ code: 'command-usage' });
    await expect(c.parley.runCommand('/like 42', { conversationId: timeline.id })).rejects.toMatchObject({ code: 'command-failed', message: expect.stringContaining('Could not find tweet with id: [42]') });
  });

  it('lists followed accounts as buddies in "Following" and fills the account info', async () => {
    let info: Record<string, string> | undefined;
    const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
    client = await startClient(world, { secrets: { accessToken: tokens.accessToken } });
    client.parley.events.on('accountInfoReceived', (_a, i) => (info = i));
    await client.parley.accounts.connect(client.accountId);
    const c = client;
    await c.waitFor(() => c.parley.buddies.find(c.accountId, 'carol') !== undefined, 'the buddies');
    const bob = c.parley.buddies.find(c.accountId, 'bob')!;
    expect(bob.contact.group).toBe('Following');
    expect(bob.buddy.alias).toBe('Bob B.');
    expect(info).toMatchObject({ Username: '@alice', Name: 'Alice A.', Description: 'Testing Parley', Location: 'Loopback', Following: '2', 'User ID': world.alice.id });
    // A newly followed account appears on the next refresh.
    const erin = world.api.server.store.addUser('erin', 'Erin');
    world.api.server.store.follow(world.alice.id, erin.id);
    await c.waitFor(() => c.parley.buddies.find(c.accountId, 'erin') !== undefined, 'the new buddy');
  });

  it('reads every page of a gap longer than one page, in order', async () => {
    const { store } = world.api.server;
    store.post(world.bob.id, 'before');
    const c = await connect({ timelinePollMs: 100 });
    await c.waitFor(() => incoming(c, 'timeline').length >= 1, 'the backlog');
    await c.parley.accounts.disconnect(c.accountId);
    for (let i = 0; i < 230; i++) store.post(i % 2 === 0 ? world.bob.id : world.carol.id, `gap post ${i}`);
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => incoming(c, 'timeline').length >= 231, 'all 230 posts');
    const texts = incoming(c, 'timeline').slice(1).map((m) => m.text.split('\n')[0]);
    expect(texts).toEqual(Array.from({ length: 230 }, (_, i) => `gap post ${i}`));
    expect(world.api.server.requestsTo('GET /2/users/:id/timelines/reverse_chronological').some((r) => r.query.pagination_token !== undefined)).toBe(true);
  });
});
