/**
 * Publishing: POST /2/tweets (a post, or a reply with
 * `reply.in_reply_to_tweet_id`), POST /2/users/:id/likes, POST /2/users/:id/retweets.
 * https://docs.x.com/x-api/posts/manage-tweets/introduction
 */
import { ENDPOINTS, type XApi } from './api.js';
import { XApiError } from './errors.js';
import { isId } from './ids.js';
import { readObject, type XUser } from './payload.js';

/** X counts characters after NFC normalization; 280 for accounts without a subscription. */
export const POST_LENGTH = 280;

export class Posting {
  /** Ids of posts published from the Timeline chat, which the core already shows. */
  readonly own = new Set<string>();

  constructor(
    private readonly api: XApi,
    private readonly me: () => XUser,
  ) {}

  async publish(text: string, options: { replyTo?: string; echo?: boolean } = {}): Promise<string> {
    const body: Record<string, unknown> = { text: text.normalize('NFC') };
    if (options.replyTo !== undefined) body.reply = { in_reply_to_tweet_id: options.replyTo };
    const { data } = await this.api.post(ENDPOINTS.post, 'tweets', body);
    const id = readObject(readObject(data)?.data)?.id;
    if (!isId(id)) throw new XApiError('malformed', ENDPOINTS.post, 'The server did not say which post it created');
    if (options.echo !== false) this.own.add(id);
    return id;
  }

  async like(postId: string): Promise<void> {
    const { data } = await this.api.post(ENDPOINTS.like, 'users/:id/likes', { tweet_id: postId }, { id: this.me().id });
    if (readObject(readObject(data)?.data)?.liked !== true) throw new XApiError('rejected', ENDPOINTS.like, describeErrors(data) ?? `Could not like ${postId}`);
  }

  async repost(postId: string): Promise<void> {
    const { data } = await this.api.post(ENDPOINTS.repost, 'users/:id/retweets', { tweet_id: postId }, { id: this.me().id });
    if (readObject(readObject(data)?.data)?.retweeted !== true) throw new XApiError('rejected', ENDPOINTS.repost, describeErrors(data) ?? `Could not repost ${postId}`);
  }
}

function describeErrors(data: unknown): string | undefined {
  const errors = readObject(data)?.errors;
  if (!Array.isArray(errors)) return undefined;
  const first = readObject(errors[0]);
  const text = first?.detail ?? first?.message;
  return typeof text === 'string' ? text.slice(0, 500) : undefined;
}
