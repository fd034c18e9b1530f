/**
 * Property-based fuzzing of X API answers into a signed-in account, end to
 * end over the test server's HTTPS: each run posts and sends DMs so the
 * polled endpoints have something to answer with, then the server answers
 * the next requests to some of them with hostile versions of the real
 * answer (structure-aware JSON edits, damaged text, garbage). After each
 * batch the account must still be online, nothing may have escaped to the
 * process, and a DM that follows must arrive.
 * Seed and replay: test/helpers/fuzz.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fc, fuzzName, runFuzz, watchEscapes } from '../../../test/helpers/fuzz.js';
import { hostileJson } from '../../../test/helpers/fuzz-json.js';
import type { Endpoint } from './x-api-server/index.js';
import { CLIENT_ID, removeHome, startClient, startWorld, type Client, type World } from './helpers.js';

const POLLED: Endpoint[] = ['GET /2/users/:id/timelines/reverse_chronological', 'GET /2/users/:id/mentions', 'GET /2/dm_events', 'GET /2/users/:id/following'];

const batch = fc.record({
  posts: fc.array(fc.constantFrom('hello @alice', 'a post https://example.com', 'RT-style text', '&amp; &lt;b&gt;'), { maxLength: 2 }),
  answers: fc.array(fc.tuple(fc.constantFrom(...POLLED), hostileJson), { minLength: 1, maxLength: 4 }),
});

let world: World;
let client: Client;

beforeAll(async () => {
  world = await startWorld();
  const tokens = world.api.server.issueOAuth2(world.alice.id, CLIENT_ID);
  client = await startClient(world, { secrets: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } });
  await client.parley.accounts.connect(client.accountId);
});
afterAll(async () => {
  await client?.shutdown();
  if (client !== undefined) removeHome(client.home);
  await world?.api.stop();
});

describe('fuzzing X API answers', () => {
  it(fuzzName('survives any hostile answers: still online, the next DM arrives'), async () => {
    const { server } = world.api;
    const escapes = watchEscapes();
    let serial = 0;
    await runFuzz(
      'x api answers',
      fc.asyncProperty(batch, async ({ posts, answers }) => {
        if (client.parley.accounts.status(client.accountId).state !== 'online') await client.parley.accounts.connect(client.accountId);
        for (const text of posts) {
          const post = server.store.post(world.bob.id, text);
          server.store.sendDm(world.bob.id, world.alice.id, `dm about ${post.id}`);
        }
        for (const [endpoint, hostile] of answers) server.inject(endpoint, { replaceBody: (body) => hostile.apply(body) });
        // Every hostile answer has been read by the plugin before the DM that must arrive is sent.
        await client.waitFor(() => POLLED.every((e) => server.pendingFaults(e) === 0), 'the plugin to read the hostile answers');
        const marker = `after the batch ${++serial}`;
        server.store.sendDm(world.bob.id, world.alice.id, marker);
        await client.waitFor(() => client.received.some((r) => r.message.text === marker), `"${marker}" to arrive`);
        const status = client.parley.accounts.status(client.accountId);
        expect(status.state, `${status.error?.reason}: ${status.error?.message}`).toBe('online');
      }),
      { runs: 200, timeLimitMs: 10_000 },
    );
    expect(escapes()).toEqual([]);
  });
});
