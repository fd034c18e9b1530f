/**
 * Reads X API v2 response bodies without trusting them: every item is
 * checked, bad items are counted and skipped, unknown fields are ignored.
 * Shapes: https://docs.x.com/x-api/fundamentals/data-dictionary
 */
import { ParleyError } from '@parley/core';
import { isId } from './ids.js';

export interface XUser {
  id: string;
  username: string;
  name: string;
  description?: string;
  location?: string;
  url?: string;
  createdAt?: string;
  followers?: number;
  following?: number;
  posts?: number;
}

export interface XReference {
  type: 'retweeted' | 'quoted' | 'replied_to';
  id: string;
}

export interface XUrlEntity {
  start: number;
  end: number;
  url: string;
  expandedUrl: string;
  displayUrl: string;
}

export interface XPost {
  id: string;
  text: string;
  authorId?: string;
  createdAt?: number;
  inReplyToUserId?: string;
  references: XReference[];
  urls: XUrlEntity[];
}

export interface XDmEvent {
  id: string;
  type: string;
  text?: string;
  senderId?: string;
  conversationId?: string;
  createdAt?: number;
  participantIds: string[];
}

export interface PageMeta {
  resultCount: number;
  newestId?: string;
  oldestId?: string;
  nextToken?: string;
}

export interface Page<T> {
  items: T[];
  users: Map<string, XUser>;
  /** Referenced posts from `includes.tweets`. */
  posts: Map<string, XPost>;
  meta: PageMeta;
  /** Items that were present but unusable. */
  skipped: number;
  /** Partial errors the API reported next to the data (`errors`). */
  errors: string[];
}

/** The body is not what the reference describes (not an object, `data` of the wrong kind). */
export class PayloadError extends ParleyError {
  declare readonly code: 'x-payload-invalid';
  constructor(message: string) {
    super('x-payload-invalid', message);
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, max = 100_000): string | undefined {
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function time(v: unknown): number | undefined {
  const s = str(v, 64);
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

const HANDLE = /^[A-Za-z0-9_]{1,15}$/;
/** Pagination tokens are opaque but short and printable; anything else is not sent back. */
const TOKEN = /^[\x21-\x7e]{1,512}$/;

export function readUser(v: unknown): XUser | undefined {
  if (!isObj(v) || !isId(v.id)) return undefined;
  const username = str(v.username, 15);
  if (username === undefined || !HANDLE.test(username)) return undefined;
  const user: XUser = { id: v.id, username, name: str(v.name, 200) ?? username };
  const description = str(v.description, 2000);
  if (description !== undefined) user.description = description;
  const location = str(v.location, 200);
  if (location !== undefined) user.location = location;
  const url = str(v.url, 2000);
  if (url !== undefined) user.url = url;
  const createdAt = str(v.created_at, 64);
  if (createdAt !== undefined) user.createdAt = createdAt;
  if (isObj(v.public_metrics)) {
    user.followers = num(v.public_metrics.followers_count);
    user.following = num(v.public_metrics.following_count);
    user.posts = num(v.public_metrics.tweet_count);
  }
  return user;
}

const REF_TYPES = new Set(['retweeted', 'quoted', 'replied_to']);

export function readPost(v: unknown): XPost | undefined {
  if (!isObj(v) || !isId(v.id)) return undefined;
  // A post longer than 280 characters comes with `text` cut short and its whole text in
  // `note_tweet` (asked for in tweet.fields); a note_tweet of the wrong shape is ignored.
  const note = isObj(v.note_tweet) ? str(v.note_tweet.text) : undefined;
  const text = note ?? str(v.text);
  if (text === undefined) return undefined;
  const post: XPost = { id: v.id, text, references: [], urls: [] };
  if (isId(v.author_id)) post.authorId = v.author_id;
  const createdAt = time(v.created_at);
  if (createdAt !== undefined) post.createdAt = createdAt;
  if (isId(v.in_reply_to_user_id)) post.inReplyToUserId = v.in_reply_to_user_id;
  if (Array.isArray(v.referenced_tweets)) {
    for (const r of v.referenced_tweets) {
      if (isObj(r) && typeof r.type === 'string' && REF_TYPES.has(r.type) && isId(r.id)) post.references.push({ type: r.type as XReference['type'], id: r.id });
    }
  }
  // The whole text's links are in note_tweet.entities; the cut text's too, and they are
  // matched by their t.co address, so both lists serve.
  if (note !== undefined && isObj(v.note_tweet)) post.urls.push(...readUrls(v.note_tweet.entities));
  post.urls.push(...readUrls(v.entities).filter((u) => !post.urls.some((known) => known.url === u.url)));
  return post;
}

function readUrls(entities: unknown): XUrlEntity[] {
  if (!isObj(entities) || !Array.isArray(entities.urls)) return [];
  const urls: XUrlEntity[] = [];
  for (const u of entities.urls) {
    if (!isObj(u)) continue;
    const url = str(u.url, 2000);
    const expandedUrl = str(u.expanded_url, 4000);
    const start = num(u.start);
    const end = num(u.end);
    if (url === undefined || expandedUrl === undefined || start === undefined || end === undefined) continue;
    urls.push({ url, expandedUrl, displayUrl: str(u.display_url, 4000) ?? expandedUrl, start, end });
  }
  return urls;
}

export function readDmEvent(v: unknown): XDmEvent | undefined {
  if (!isObj(v) || !isId(v.id)) return undefined;
  const type = str(v.event_type, 64);
  if (type === undefined) return undefined;
  const event: XDmEvent = { id: v.id, type, participantIds: [] };
  const text = str(v.text);
  if (text !== undefined) event.text = text;
  if (isId(v.sender_id)) event.senderId = v.sender_id;
  const conversationId = str(v.dm_conversation_id, 128);
  if (conversationId !== undefined && /^[0-9-:]+$/.test(conversationId)) event.conversationId = conversationId;
  const createdAt = time(v.created_at);
  if (createdAt !== undefined) event.createdAt = createdAt;
  if (Array.isArray(v.participant_ids)) event.participantIds = v.participant_ids.filter(isId);
  return event;
}

function readMeta(v: unknown): PageMeta {
  if (!isObj(v)) return { resultCount: 0 };
  const meta: PageMeta = { resultCount: num(v.result_count) ?? 0 };
  if (isId(v.newest_id)) meta.newestId = v.newest_id;
  if (isId(v.oldest_id)) meta.oldestId = v.oldest_id;
  const next = str(v.next_token, 512);
  if (next !== undefined && TOKEN.test(next)) meta.nextToken = next;
  return meta;
}

function readErrors(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((e) => str(e.detail, 1000) ?? str(e.message, 1000) ?? str(e.title, 200) ?? 'error');
}

/** A list response: `data` is an array or absent (no results), `includes` and `meta` optional. */
export function readPage<T>(body: unknown, readItem: (v: unknown) => T | undefined): Page<T> {
  if (!isObj(body)) throw new PayloadError('The response is not a JSON object');
  if (body.data !== undefined && !Array.isArray(body.data)) throw new PayloadError('The response "data" is not a list');
  const items: T[] = [];
  let skipped = 0;
  for (const raw of (body.data as unknown[] | undefined) ?? []) {
    const item = readItem(raw);
    if (item === undefined) skipped++;
    else items.push(item);
  }
  const users = new Map<string, XUser>();
  const posts = new Map<string, XPost>();
  if (isObj(body.includes)) {
    if (Array.isArray(body.includes.users)) for (const u of body.includes.users.map(readUser)) if (u !== undefined) users.set(u.id, u);
    if (Array.isArray(body.includes.tweets)) for (const p of body.includes.tweets.map(readPost)) if (p !== undefined) posts.set(p.id, p);
  }
  return { items, users, posts, meta: readMeta(body.meta), skipped, errors: readErrors(body.errors) };
}

/** A single-object response (`data` is an object); returns undefined with the API's errors when absent. */
export function readSingle<T>(body: unknown, readItem: (v: unknown) => T | undefined): { item?: T; errors: string[] } {
  if (!isObj(body)) throw new PayloadError('The response is not a JSON object');
  const errors = readErrors(body.errors);
  if (body.data === undefined) return { errors };
  const item = readItem(body.data);
  if (item === undefined) throw new PayloadError('The response "data" is not what the API reference describes');
  return { item, errors };
}

export function readObject(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}
