/**
 * A post as a chat line: plain text for every UI, and the small safe HTML
 * subset of `FormattedBody` (a href, br, i) with links to the post, to
 * mentioned accounts and to the expanded URLs.
 */
import { parseHttpUrl, type FormattedBody } from '@parley/core';
import type { XPost, XUser } from './payload.js';

export interface RenderedPost {
  text: string;
  formatted: FormattedBody;
}

export interface PostContext {
  users: ReadonlyMap<string, XUser>;
  posts: ReadonlyMap<string, XPost>;
}

export function postUrl(username: string, id: string): string {
  return `https://x.com/${encodeURIComponent(username)}/status/${id}`;
}

/** The API sends post text with &amp; &lt; &gt; escaped; users typed the plain characters. */
export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function safeHref(url: string): string | undefined {
  return parseHttpUrl(url)?.href;
}

function link(url: string, label: string): string {
  const href = safeHref(url);
  return href === undefined ? escapeHtml(label) : `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
}

/** Text with t.co links replaced by their targets, as plain text and as HTML. */
function body(post: XPost): { text: string; html: string } {
  const raw = decodeEntities(post.text);
  let text = raw;
  for (const u of post.urls) if (safeHref(u.expandedUrl) !== undefined) text = text.split(u.url).join(u.expandedUrl);
  // HTML: tokens are URLs (linked), @handles (linked to the profile) or text (escaped).
  const html = text
    .split(/(https?:\/\/[^\s<>"]+|@[A-Za-z0-9_]{1,15}\b)/)
    .map((part, i) => {
      if (i % 2 === 0) return escapeHtml(part);
      if (part.startsWith('@')) return link(`https://x.com/${part.slice(1)}`, part);
      return link(part, part);
    })
    .join('')
    .replace(/\n/g, '<br>');
  return { text, html };
}

function handleOf(id: string | undefined, ctx: PostContext): string {
  if (id === undefined) return 'unknown';
  return ctx.users.get(id)?.username ?? id;
}

export function renderPost(post: XPost, author: string, ctx: PostContext): RenderedPost {
  const lines: string[] = [];
  const html: string[] = [];
  const retweet = post.references.find((r) => r.type === 'retweeted');
  const original = retweet === undefined ? undefined : ctx.posts.get(retweet.id);
  if (retweet !== undefined) {
    const who = handleOf(original?.authorId, ctx);
    lines.push(`🔁 reposted @${who}:`);
    html.push(`<i>🔁 reposted ${link(`https://x.com/${who}`, `@${who}`)}:</i>`);
  }
  const reply = post.references.find((r) => r.type === 'replied_to');
  if (reply !== undefined) {
    const parent = ctx.posts.get(reply.id);
    const who = handleOf(parent?.authorId ?? post.inReplyToUserId, ctx);
    const target = postUrl(who, reply.id);
    lines.push(`↩ in reply to @${who} (${target})`);
    html.push(`<i>↩ in reply to ${link(target, `@${who}`)}</i>`);
  }
  const main = body(original ?? post);
  lines.push(main.text);
  html.push(main.html);
  const quote = post.references.find((r) => r.type === 'quoted');
  if (quote !== undefined) {
    const quoted = ctx.posts.get(quote.id);
    const who = handleOf(quoted?.authorId, ctx);
    const target = postUrl(who, quote.id);
    if (quoted !== undefined) {
      const q = body(quoted);
      lines.push(`❝ @${who}: ${q.text} ❞ (${target})`);
      html.push(`<i>❝ ${link(`https://x.com/${who}`, `@${who}`)}: ${q.html} ❞</i> ${link(target, 'quoted post')}`);
    } else {
      lines.push(`❝ quoting ${target}`);
      html.push(`<i>❝ quoting ${link(target, target)}</i>`);
    }
  }
  const own = postUrl(author, post.id);
  lines.push(own);
  html.push(link(own, own));
  return { text: lines.join('\n'), formatted: { html: html.join('<br>') } };
}
