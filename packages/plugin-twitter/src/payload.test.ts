import { describe, expect, it } from 'vitest';
import { PayloadError, readDmEvent, readPage, readPost, readSingle, readUser } from './payload.js';

describe('payload reading', () => {
  it('reads a timeline page as the v2 reference describes it', () => {
    const page = readPage(
      {
        data: [{ id: '20', text: 'hi @bob', author_id: '1', created_at: '2025-01-01T00:00:00.000Z', referenced_tweets: [{ type: 'quoted', id: '10' }], edit_history_tweet_ids: ['20'] }],
        includes: { users: [{ id: '1', username: 'carol', name: 'Carol' }], tweets: [{ id: '10', text: 'old', author_id: '2' }] },
        meta: { result_count: 1, newest_id: '20', oldest_id: '20', next_token: 'abc123' },
      },
      readPost,
    );
    expect(page.items).toEqual([{ id: '20', text: 'hi @bob', authorId: '1', createdAt: Date.parse('2025-01-01T00:00:00.000Z'), references: [{ type: 'quoted', id: '10' }], urls: [] }]);
    expect(page.users.get('1')?.username).toBe('carol');
    expect(page.posts.get('10')?.text).toBe('old');
    expect(page.meta).toEqual({ resultCount: 1, newestId: '20', oldestId: '20', nextToken: 'abc123' });
  });

  it('treats a page without data as empty', () => {
    expect(readPage({ meta: { result_count: 0 } }, readPost).items).toEqual([]);
  });

  it('skips hostile items and keeps the good ones', () => {
    const page = readPage(
      {
        data: [{ id: '5', text: 'ok' }, { text: 'no id' }, { id: 5, text: 'numeric id' }, { id: '../x', text: 't' }, { id: '6', text: 7 }, null, 'str', [], { id: '7', text: 'x'.repeat(200_000) }],
        includes: { users: 'nope', tweets: [{ id: null }] },
        meta: { result_count: 'many', next_token: 'bad token with spaces\n' },
      },
      readPost,
    );
    expect(page.items.map((p) => p.id)).toEqual(['5']);
    expect(page.skipped).toBe(8);
    expect(page.meta).toEqual({ resultCount: 0 });
  });

  it('prefers the whole text of a long post from note_tweet, with its links (https://docs.x.com/x-api/fundamentals/data-dictionary)', () => {
    const whole = `${'a'.repeat(290)} https://t.co/2`;
    const post = readPost({
      id: '30',
      text: 'a'.repeat(280),
      entities: {},
      note_tweet: { text: whole, entities: { urls: [{ start: 291, end: 304, url: 'https://t.co/2', expanded_url: 'https://example.com/2', display_url: 'example.com/2' }] } },
    });
    expect(post?.text).toBe(whole);
    expect(post?.urls.map((u) => u.expandedUrl)).toEqual(['https://example.com/2']);
  });

  it('uses the post text when note_tweet is absent or of the wrong shape', () => {
    for (const note of [undefined, null, 'text', { text: 12 }, { text: 'x'.repeat(200_000) }, { entities: {} }]) {
      expect(readPost({ id: '31', text: 'short', note_tweet: note })?.text, JSON.stringify(note)?.slice(0, 40)).toBe('short');
    }
  });

  it('ignores unexpected fields and invalid nested values', () => {
    const post = readPost({ id: '9', text: 't', future: { x: 1 }, referenced_tweets: [{ type: 'boosted', id: '1' }, { type: 'quoted', id: 'x' }, 'bad'], entities: { urls: [{ url: 1 }] } });
    expect(post).toEqual({ id: '9', text: 't', references: [], urls: [] });
  });

  it('rejects a body that is not the documented shape', () => {
    expect(() => readPage('<html>', readPost)).toThrow(PayloadError);
    expect(() => readPage([1, 2], readPost)).toThrow(PayloadError);
    expect(() => readPage({ data: { id: '1' } }, readPost)).toThrow(PayloadError);
    expect(() => readSingle({ data: 'x' }, readUser)).toThrow(PayloadError);
  });

  it('returns the API errors of a single-object response without data', () => {
    expect(readSingle({ errors: [{ detail: 'Could not find user with username: [nobody].' }] }, readUser)).toEqual({ errors: ['Could not find user with username: [nobody].'] });
  });

  it('reads users only with a valid handle', () => {
    expect(readUser({ id: '1', username: 'a b', name: 'x' })).toBeUndefined();
    expect(readUser({ id: '1', username: 'ab', public_metrics: { followers_count: 3 } })).toMatchObject({ username: 'ab', name: 'ab', followers: 3 });
  });

  it('reads DM events and drops odd conversation ids', () => {
    expect(readDmEvent({ id: '3', event_type: 'MessageCreate', text: 'yo', sender_id: '1', dm_conversation_id: '1-2', participant_ids: ['1', 2] })).toEqual({
      id: '3',
      type: 'MessageCreate',
      text: 'yo',
      senderId: '1',
      conversationId: '1-2',
      participantIds: ['1'],
    });
    expect(readDmEvent({ id: '3', event_type: 'MessageCreate', dm_conversation_id: '<script>' })?.conversationId).toBeUndefined();
    expect(readDmEvent({ id: '3' })).toBeUndefined();
  });
});
