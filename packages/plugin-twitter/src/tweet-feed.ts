/**
 * A timeline read with since_id polling: each poll asks for posts newer than
 * the last one shown and follows `next_token` through every page of them
 * (newest page first), so a gap longer than one page loses nothing within
 * the API's window; posts are then shown oldest first and the newest id is
 * persisted, so a restart shows nothing twice.
 * https://docs.x.com/x-api/fundamentals/pagination (since_id for polling)
 */
import type { IncomingMessage } from '@parley/core';
import type { EndpointName, XApi } from './api.js';
import { compareIds, newestId } from './ids.js';
import { readPage, readPost, type XPost, type XUser } from './payload.js';
import { renderPost, type PostContext } from './render.js';

/**
 * Asked on every request for posts (timeline, mentions, and the referenced posts their
 * expansions bring): `note_tweet` carries the whole text of a post longer than 280 characters,
 * whose `text` is cut short.
 */
export const POST_QUERY = {
  'tweet.fields': 'created_at,author_id,conversation_id,referenced_tweets,entities,in_reply_to_user_id,note_tweet',
  expansions: 'author_id,referenced_tweets.id,referenced_tweets.id.author_id,in_reply_to_user_id',
  'user.fields': 'username,name',
} as const;

export interface StateStore {
  getState<T>(key: string): T | undefined;
  setState(key: string, value: unknown): void;
}

export interface FeedOptions {
  endpoint: EndpointName;
  /** Path with `:id` for the user. */
  path: string;
  room: string;
  stateKey: string;
  /** The endpoint's smallest and largest `max_results`. */
  minPage: number;
  maxPage: number;
  /** Posts to show the very first time (no saved position). */
  backlog: number;
  /** Pages to follow in one poll; bounds a server that never stops paging. */
  maxPages?: number;
}

export interface FeedDeps {
  api: XApi;
  state: StateStore;
  me: () => XUser;
  /** Posts this connection published itself; the core already shows them. */
  ownPosts: ReadonlySet<string>;
  learnUsers(users: Iterable<XUser>): void;
  receive(message: IncomingMessage): void;
  skipped(count: number, room: string): void;
}

export class TweetFeed {
  constructor(
    private readonly options: FeedOptions,
    private readonly deps: FeedDeps,
  ) {}

  get room(): string {
    return this.options.room;
  }

  async poll(): Promise<void> {
    const { options, deps } = this;
    const since = deps.state.getState<string>(options.stateKey);
    const first = typeof since !== 'string';
    const collected = new Map<string, XPost>();
    const users = new Map<string, XUser>();
    const posts = new Map<string, XPost>();
    let skipped = 0;
    let token: string | undefined;
    const seenTokens = new Set<string>();
    for (let page = 0; page < (options.maxPages ?? 32); page++) {
      const query: Record<string, string | number> = { ...POST_QUERY };
      query.max_results = first ? Math.min(options.maxPage, Math.max(options.minPage, options.backlog)) : options.maxPage;
      if (!first) query.since_id = since;
      if (token !== undefined) query.pagination_token = token;
      const { data } = await deps.api.get(options.endpoint, options.path, query, { id: deps.me().id });
      const result = readPage(data, readPost);
      skipped += result.skipped;
      for (const [id, u] of result.users) users.set(id, u);
      for (const [id, p] of result.posts) posts.set(id, p);
      for (const p of result.items) collected.set(p.id, p);
      token = result.meta.nextToken;
      // The first time shows one page only; a token seen before would loop.
      if (first || token === undefined || seenTokens.has(token)) break;
      seenTokens.add(token);
    }
    deps.learnUsers(users.values());
    if (skipped > 0) deps.skipped(skipped, options.room);
    // A server that ignores since_id must not make posts appear twice.
    const fresh = [...collected.values()].filter((p) => first || compareIds(p.id, since) > 0).sort((a, b) => compareIds(a.id, b.id));
    const shown = first ? fresh.slice(Math.max(0, fresh.length - options.backlog)) : fresh;
    const ctx: PostContext = { users, posts };
    for (const post of shown) this.deliver(post, ctx, first);
    const newest = newestId(fresh.map((p) => p.id));
    if (newest !== undefined && (first || compareIds(newest, since) > 0)) deps.state.setState(options.stateKey, newest);
  }

  private deliver(post: XPost, ctx: PostContext, delayed: boolean): void {
    const { deps } = this;
    if (deps.ownPosts.has(post.id)) return;
    const me = deps.me();
    const author = post.authorId === undefined ? undefined : ctx.users.get(post.authorId);
    const username = author?.username ?? (post.authorId === me.id ? me.username : post.authorId ?? 'unknown');
    const rendered = renderPost(post, username, ctx);
    const message: IncomingMessage = {
      conversation: { kind: 'chat', room: this.options.room },
      sender: username,
      text: rendered.text,
      formatted: rendered.formatted,
      protocolId: post.id,
    };
    if (author?.name !== undefined && author.name !== username) message.senderAlias = author.name;
    if (post.createdAt !== undefined) message.timestamp = post.createdAt;
    if (delayed) message.flags = { delayed: true };
    if (post.authorId === me.id) message.fromSelf = true;
    deps.receive(message);
  }
}
