/**
 * Property-based fuzzing of the X API v2 response readers and the post
 * renderer: structure-aware mutations of valid pages (timeline, mentions,
 * DM events, following, a single user), plus garbage. A reader gives a page
 * or a PayloadError, never anything else; what it keeps is well-formed; the
 * renderer turns any kept post into text and safe HTML.
 * Seed and replay: test/helpers/fuzz.ts.
 */
import { describe, expect, it } from 'vitest';
import { fc, fuzzName, runFuzz } from '../../../test/helpers/fuzz.js';
import { applyJsonEdits, hostileJsonValue, jsonEdits } from '../../../test/helpers/fuzz-json.js';
import { PayloadError, readDmEvent, readPage, readPost, readSingle, readUser } from './payload.js';
import { renderPost } from './render.js';

const timeline = {
  data: [
    { id: '20', text: 'hi @bob https://t.co/x &amp; more', author_id: '1', created_at: '2025-01-01T00:00:00.000Z', referenced_tweets: [{ type: 'quoted', id: '10' }], entities: { urls: [{ start: 20, end: 35, url: 'https://t.co/x', expanded_url: 'https://example.com/a', display_url: 'example.com/a' }] }, edit_history_tweet_ids: ['20'] },
    { id: '21', text: 'RT @carol: old', author_id: '2', referenced_tweets: [{ type: 'retweeted', id: '10' }], in_reply_to_user_id: '1', note_tweet: { text: 'long '.repeat(80) } },
  ],
  includes: { users: [{ id: '1', username: 'carol', name: 'Carol', description: 'd', public_metrics: { followers_count: 3, following_count: 4, tweet_count: 5 } }, { id: '2', username: 'bob', name: 'Bob' }], tweets: [{ id: '10', text: 'old', author_id: '1' }] },
  meta: { result_count: 2, newest_id: '21', oldest_id: '20', next_token: 'abc123' },
  errors: [{ detail: 'Could not find tweet', title: 'Not Found Error', resource_type: 'tweet', value: '9' }],
};
const dms = {
  data: [{ id: '30', event_type: 'MessageCreate', text: 'hello', sender_id: '2', dm_conversation_id: '1-2', created_at: '2025-01-01T00:00:00.000Z', participant_ids: ['1', '2'] }],
  includes: { users: [{ id: '2', username: 'bob', name: 'Bob' }] },
  meta: { result_count: 1 },
};
const following = { data: [{ id: '2', username: 'bob', name: 'Bob', created_at: '2020-01-01T00:00:00.000Z' }], meta: { result_count: 1 } };
const me = { data: { id: '1', username: 'alice', name: 'Alice A.', location: 'Loopback', url: 'https://example.com' } };

const STRINGLY = (v: unknown) => typeof v === 'string';

/** Runs `read`; a PayloadError is a refusal, anything else thrown is a bug. */
function readOrRefuse<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof PayloadError) return undefined;
    throw error;
  }
}

describe('fuzzing X API responses', () => {
  it(fuzzName('pages and single objects: read (kept items well-formed, posts render) or a PayloadError'), async () => {
    const body = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constantFrom(timeline, dms, following, me), jsonEdits).map(([doc, edits]) => applyJsonEdits(doc, edits)) },
      { weight: 1, arbitrary: hostileJsonValue },
    );
    await runFuzz(
      'x api payloads',
      fc.property(body, (doc) => {
        const posts = readOrRefuse(() => readPage(doc, readPost));
        if (posts !== undefined) {
          for (const post of posts.items) {
            expect(post.id).toMatch(/^\d{1,19}$/);
            expect(typeof post.text).toBe('string');
            const rendered = renderPost(post, posts.users.get(post.authorId ?? '')?.username ?? 'someone', posts);
            expect(typeof rendered.text).toBe('string');
            expect(rendered.formatted.html).not.toMatch(/<(?!\/?(a|br|b|i)\b)[a-z]/i);
            expect(rendered.formatted.html).not.toMatch(/href="(?!https?:)/i);
          }
          for (const user of posts.users.values()) expect([user.id, user.username, user.name].every(STRINGLY)).toBe(true);
        }
        const events = readOrRefuse(() => readPage(doc, readDmEvent));
        for (const event of events?.items ?? []) expect(event.participantIds.every(STRINGLY)).toBe(true);
        readOrRefuse(() => readPage(doc, readUser));
        const single = readOrRefuse(() => readSingle(doc, readUser));
        if (single?.item !== undefined) expect(single.item.username).toEqual(expect.any(String));
      }),
      { runs: 3000, timeLimitMs: 3_000 },
    );
  });
});
