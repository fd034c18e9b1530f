import { describe, expect, it } from 'vitest';
import type { XPost, XUser } from './payload.js';
import { renderPost } from './render.js';

const users = new Map<string, XUser>([
  ['1', { id: '1', username: 'bob', name: 'Bob' }],
  ['2', { id: '2', username: 'carol', name: 'Carol' }],
]);

function post(p: Partial<XPost> & { id: string; text: string }): XPost {
  return { references: [], urls: [], ...p };
}

describe('renderPost', () => {
  it('adds the link to the post and decodes the API’s entities', () => {
    const r = renderPost(post({ id: '10', text: 'a &amp; b &lt;3', authorId: '1' }), 'bob', { users, posts: new Map() });
    expect(r.text).toBe('a & b <3\nhttps://x.com/bob/status/10');
    expect(r.formatted.html).toBe('a &amp; b &lt;3<br><a href="https://x.com/bob/status/10">https://x.com/bob/status/10</a>');
  });

  it('shows reply and quote context', () => {
    const parent = post({ id: '5', text: 'question?', authorId: '2' });
    const quoted = post({ id: '6', text: 'quoted words', authorId: '2' });
    const r = renderPost(
      post({ id: '11', text: 'answer', authorId: '1', references: [{ type: 'replied_to', id: '5' }, { type: 'quoted', id: '6' }] }),
      'bob',
      { users, posts: new Map([['5', parent], ['6', quoted]]) },
    );
    expect(r.text.split('\n')).toEqual(['↩ in reply to @carol (https://x.com/carol/status/5)', 'answer', '❝ @carol: quoted words ❞ (https://x.com/carol/status/6)', 'https://x.com/bob/status/11']);
  });

  it('shows a repost with the original text and author', () => {
    const original = post({ id: '7', text: 'original', authorId: '2' });
    const r = renderPost(post({ id: '12', text: 'RT @carol: origi…', authorId: '1', references: [{ type: 'retweeted', id: '7' }] }), 'bob', { users, posts: new Map([['7', original]]) });
    expect(r.text.split('\n').slice(0, 2)).toEqual(['🔁 reposted @carol:', 'original']);
  });

  it('expands t.co links and never emits markup from post text', () => {
    const r = renderPost(
      post({ id: '13', text: '<b>hi</b> "x" https://t.co/abc javascript:alert(1)', urls: [{ url: 'https://t.co/abc', expandedUrl: 'https://example.com/a?b=1&c=2', displayUrl: 'example.com/a', start: 0, end: 0 }] }),
      'bob',
      { users, posts: new Map() },
    );
    expect(r.text).toContain('https://example.com/a?b=1&c=2');
    expect(r.formatted.html).toContain('&lt;b&gt;hi&lt;/b&gt; &quot;x&quot;');
    expect(r.formatted.html).toContain('<a href="https://example.com/a?b=1&amp;c=2">');
    expect(r.formatted.html).not.toContain('href="javascript');
    expect(r.formatted.html).not.toMatch(/<b>/);
  });
});
