import { describe, expect, it } from 'vitest';
import { CLIENT_ID, worldPerTest, type Client } from './helpers.js';

describe('rate limits, tokens, access levels and bad responses', () => {
  const x = worldPerTest();

  const start = (secrets: Record<string, string>, settings: Record<string, unknown> = {}): Promise<Client> => x.start({ secrets, settings });

  const systemLines = (c: Client, room: string) => c.lines(room).filter((m) => m.flags.system === true || m.flags.error === true);
  const posts = (c: Client, room: string) => c.lines(room).filter((m) => m.direction === 'incoming' && !m.flags.system && !m.flags.error);

  it('waits for the reset on 429, says so in the conversation, then goes on', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => server.requestsTo('GET /2/users/:id/mentions').length >= 1, 'a first mentions poll');
    // Another client of the same user spends the window: the next poll gets 429.
    server.exhaust('GET /2/users/:id/mentions', x.world.alice.id, 2);
    await c.waitFor(() => systemLines(c, 'mentions').some((m) => m.text.includes('Rate limit')), 'the rate-limit line');
    const line = systemLines(c, 'mentions').find((m) => m.text.includes('Rate limit'))!;
    expect(line.text).toMatch(/^Rate limit reached for mentions \(GET \/2\/users\/:id\/mentions\); waiting until \d\d:\d\d:\d\d/);
    server.store.post(x.world.bob.id, '@alice after the wait');
    await c.waitFor(() => posts(c, 'mentions').some((m) => m.text.startsWith('@alice after the wait')), 'the mention after the reset');
    // One 429, then nothing more until the reset: the plugin waited instead of retrying.
    expect(server.requestsTo('GET /2/users/:id/mentions').filter((r) => r.status === 429)).toHaveLength(1);
    expect(systemLines(c, 'mentions').some((m) => m.text === 'Reading mentions again.')).toBe(true);
    // The timeline has its own window and was never held.
    expect(server.requestsTo('GET /2/users/:id/timelines/reverse_chronological').every((r) => r.status === 200)).toBe(true);
  });

  it('holds a feed whose window the headers say is spent, without a 429', async () => {
    const { server } = x.world.api;
    server.setRateLimit('GET /2/users/:id/mentions', 2, 2);
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => server.requestsTo('GET /2/users/:id/mentions').length >= 2, 'the window spent');
    server.store.post(x.world.bob.id, '@alice in the next window');
    await c.waitFor(() => posts(c, 'mentions').some((m) => m.text.startsWith('@alice in the next window')), 'the mention after the reset');
    expect(server.requestsTo('GET /2/users/:id/mentions').filter((r) => r.status === 429)).toEqual([]);
  });

  it('refreshes an expired OAuth 2.0 token, stores the new one, and keeps going', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    server.expire(tokens.accessToken);
    const c = await start({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
    await c.parley.accounts.connect(c.accountId);
    expect(server.requestsTo('POST /2/oauth2/token')).toHaveLength(1);
    // Expire the refreshed token as well, mid-session: the feeds refresh once, together.
    server.store.post(x.world.bob.id, 'after refresh');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('after refresh')), 'a post after the refresh');
    await c.shutdown();
    // The rotated tokens were stored: a fresh start signs in with them, with no refresh needed.
    const again = await x.start({ home: c.home, register: false });
    await again.parley.accounts.connect(again.accountId);
    expect(server.requestsTo('POST /2/oauth2/token')).toHaveLength(1);
    expect(again.parley.accounts.status(again.accountId).state).toBe('online');
  });

  it('refreshes once when the token expires while online', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => server.requestsTo('GET /2/dm_events').length >= 1, 'polling');
    server.expire(tokens.accessToken);
    server.store.post(x.world.bob.id, 'seen with the new token');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('seen with the new token')), 'the post');
    // Timeline, mentions, DMs and following all got 401 at about the same time; one refresh served them.
    expect(server.requestsTo('POST /2/oauth2/token')).toHaveLength(1);
    expect(c.parley.accounts.status(c.accountId).state).toBe('online');
  });

  it('reports authentication-failed when the token is refused and cannot be refreshed', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    server.expire(tokens.accessToken);
    const c = await start({ accessToken: tokens.accessToken, refreshToken: 'revoked-refresh-token' });
    await expect(c.parley.accounts.connect(c.accountId)).rejects.toMatchObject({ reason: 'authentication-failed', fatal: true });
  });

  it('names the endpoint a 403 comes from and keeps the rest working', async () => {
    const { server } = x.world.api;
    server.forbid('GET /2/users/:id/mentions');
    server.store.post(x.world.bob.id, 'timeline still works');
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => systemLines(c, 'mentions').length >= 1, 'the 403 line');
    const line = systemLines(c, 'mentions')[0]!;
    expect(line.flags.error).toBe(true);
    expect(line.text).toContain('does not include mentions (GET /2/users/:id/mentions)');
    expect(line.text).toContain('Client Forbidden');
    await c.waitFor(() => posts(c, 'timeline').length >= 1, 'the timeline');
    server.store.sendDm(x.world.bob.id, x.world.alice.id, 'dms still work');
    await c.waitFor(() => c.received.some((r) => r.message.text === 'dms still work'), 'a DM');
    // The forbidden endpoint is not asked again.
    const asked = server.requestsTo('GET /2/users/:id/mentions').length;
    server.store.sendDm(x.world.bob.id, x.world.alice.id, 'one more');
    await c.waitFor(() => c.received.some((r) => r.message.text === 'one more'), 'another DM');
    expect(server.requestsTo('GET /2/users/:id/mentions').length).toBe(asked);
    expect(c.parley.accounts.status(c.accountId).state).toBe('online');
  });

  it('survives malformed JSON, unexpected fields and wrong types, and loses nothing', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    server.store.post(x.world.bob.id, 'one');
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => posts(c, 'timeline').length >= 1, 'the backlog');
    server.inject('GET /2/users/:id/timelines/reverse_chronological', 'malformed-json');
    server.store.post(x.world.bob.id, 'two');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('two')), 'the post after the malformed answer');
    expect(systemLines(c, 'timeline').some((m) => m.text.includes('not valid JSON'))).toBe(true);
    server.inject('GET /2/users/:id/timelines/reverse_chronological', 'unexpected-fields');
    server.store.post(x.world.carol.id, 'three');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('three')), 'the post with unexpected fields');
    server.inject('GET /2/users/:id/timelines/reverse_chronological', 'wrong-types');
    server.store.post(x.world.carol.id, 'four');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('four')), 'the post next to broken items');
    expect(systemLines(c, 'timeline').some((m) => m.text.includes('could not be read and were skipped'))).toBe(true);
    server.inject('GET /2/dm_events', 'wrong-types');
    server.inject('GET /2/users/:id/following', 'malformed-json');
    server.inject('GET /2/users/:id/mentions', 'server-error');
    server.store.sendDm(x.world.bob.id, x.world.alice.id, 'dm after the faults');
    await c.waitFor(() => c.received.some((r) => r.message.text === 'dm after the faults'), 'a DM after the faults');
    expect(posts(c, 'timeline').map((m) => m.text.split('\n')[0])).toEqual(['one', 'two', 'three', 'four']);
    expect(c.parley.accounts.status(c.accountId).state).toBe('online');
  });

  it('treats a dropped connection as a network error and reconnects', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.alice.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    await c.parley.accounts.connect(c.accountId);
    const lost = new Promise<unknown>((resolve) => c.parley.events.on('accountDisconnected', (_a, e) => resolve(e)));
    server.inject('GET /2/users/:id/timelines/reverse_chronological', 'drop');
    expect(await lost).toMatchObject({ reason: 'network', fatal: false });
    server.store.post(x.world.bob.id, 'back again');
    await c.waitFor(() => posts(c, 'timeline').some((m) => m.text.startsWith('back again')), 'the post after reconnecting');
  });

  it('signs OAuth 1.0a requests for the URL they are sent to', async () => {
    const { server } = x.world.api;
    const t = server.issueOAuth1(x.world.alice.id);
    server.store.post(x.world.bob.id, 'signed and delivered');
    const c = await start({ accessToken: t.accessToken, appSecret: t.appSecret, accessSecret: t.accessSecret }, { authMethod: 'oauth1', appKey: t.appKey });
    await c.parley.accounts.connect(c.accountId);
    await c.waitFor(() => posts(c, 'timeline').length >= 1, 'the timeline');
    const timeline = c.parley.conversations.find(c.accountId, 'chat', 'timeline')!;
    await c.parley.conversations.send(timeline.id, 'posted with OAuth 1.0a & a query-like text ?a=b');
    expect(server.store.tweets.at(-1)).toMatchObject({ author_id: x.world.alice.id, text: 'posted with OAuth 1.0a & a query-like text ?a=b' });
    expect(server.requests.every((r) => r.status !== 401)).toBe(true);
  });

  it('rejects a wrong OAuth 1.0a secret as authentication-failed', async () => {
    const { server } = x.world.api;
    const t = server.issueOAuth1(x.world.alice.id);
    const c = await start({ accessToken: t.accessToken, appSecret: t.appSecret, accessSecret: 'wrong' }, { authMethod: 'oauth1', appKey: t.appKey });
    await expect(c.parley.accounts.connect(c.accountId)).rejects.toMatchObject({ reason: 'authentication-failed' });
  });

  it('refuses tokens of another account than the username', async () => {
    const { server } = x.world.api;
    const tokens = server.issueOAuth2(x.world.bob.id, CLIENT_ID);
    const c = await start({ accessToken: tokens.accessToken });
    await expect(c.parley.accounts.connect(c.accountId)).rejects.toMatchObject({ reason: 'invalid-username' });
  });
});
