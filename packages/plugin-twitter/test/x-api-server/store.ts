/**
 * The data behind the test X API server: users, posts, follows and direct
 * message events, with the query semantics of the v2 endpoints
 * (reverse-chronological order, since_id / until_id bounds, pagination).
 */

export interface User {
  id: string;
  username: string;
  name: string;
  description?: string;
  location?: string;
  url?: string;
  created_at: string;
  public_metrics: { followers_count: number; following_count: number; tweet_count: number; listed_count: number };
}

export interface ReferencedTweet {
  type: 'retweeted' | 'quoted' | 'replied_to';
  id: string;
}

export interface Tweet {
  id: string;
  text: string;
  author_id: string;
  created_at: string;
  conversation_id: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: ReferencedTweet[];
  entities?: { mentions?: Array<{ start: number; end: number; username: string; id: string }>; urls?: Array<{ start: number; end: number; url: string; expanded_url: string; display_url: string }> };
  edit_history_tweet_ids: string[];
}

export interface DmEvent {
  id: string;
  event_type: 'MessageCreate' | 'ParticipantsJoin' | 'ParticipantsLeave';
  text?: string;
  sender_id: string;
  dm_conversation_id: string;
  created_at: string;
  participant_ids: string[];
}

/** Compares snowflake ids as numbers: "999" < "1000" although it sorts after it as a string. */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export class XStore {
  readonly users = new Map<string, User>();
  readonly tweets: Tweet[] = [];
  readonly dmEvents: DmEvent[] = [];
  /** follower id → followed ids, in the order they were followed. */
  readonly follows = new Map<string, string[]>();
  readonly likes = new Map<string, Set<string>>();
  /** Ids grow like snowflakes; starting low lets tests cross a digit boundary (999 → 1000). */
  private nextId: bigint;
  private clock: number;

  constructor(options: { firstId?: bigint; startTime?: number } = {}) {
    this.nextId = options.firstId ?? 1_800_000_000_000_000_000n;
    this.clock = options.startTime ?? Date.parse('2025-01-01T00:00:00Z');
  }

  private id(): string {
    const id = this.nextId;
    this.nextId += 1n;
    return id.toString();
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  addUser(username: string, name: string, extra: Partial<Omit<User, 'id' | 'username' | 'name'>> = {}): User {
    const user: User = {
      id: this.id(),
      username,
      name,
      created_at: this.now(),
      public_metrics: { followers_count: 0, following_count: 0, tweet_count: 0, listed_count: 0 },
      ...extra,
    };
    this.users.set(user.id, user);
    return user;
  }

  userByName(username: string): User | undefined {
    const wanted = username.toLowerCase();
    for (const u of this.users.values()) if (u.username.toLowerCase() === wanted) return u;
    return undefined;
  }

  follow(followerId: string, followedId: string): void {
    const list = this.follows.get(followerId) ?? [];
    if (!list.includes(followedId)) list.push(followedId);
    this.follows.set(followerId, list);
    this.users.get(followerId)!.public_metrics.following_count = list.length;
    this.users.get(followedId)!.public_metrics.followers_count += 1;
  }

  following(userId: string): User[] {
    return (this.follows.get(userId) ?? []).map((id) => this.users.get(id)!).filter((u) => u !== undefined);
  }

  /** Publishes a post; mentions and URLs in the text become entities as the API reports them. */
  post(authorId: string, text: string, options: { replyTo?: string; quote?: string; retweetOf?: string } = {}): Tweet {
    const id = this.id();
    const tweet: Tweet = { id, text, author_id: authorId, created_at: this.now(), conversation_id: id, edit_history_tweet_ids: [id] };
    const refs: ReferencedTweet[] = [];
    if (options.replyTo !== undefined) {
      const parent = this.tweet(options.replyTo);
      if (parent !== undefined) {
        tweet.conversation_id = parent.conversation_id;
        tweet.in_reply_to_user_id = parent.author_id;
      }
      refs.push({ type: 'replied_to', id: options.replyTo });
    }
    if (options.quote !== undefined) refs.push({ type: 'quoted', id: options.quote });
    if (options.retweetOf !== undefined) refs.push({ type: 'retweeted', id: options.retweetOf });
    if (refs.length > 0) tweet.referenced_tweets = refs;
    const mentions = [...text.matchAll(/@(\w{1,15})/g)]
      .map((m) => ({ m, user: this.userByName(m[1]!) }))
      .filter((x) => x.user !== undefined)
      .map(({ m, user }) => ({ start: m.index!, end: m.index! + m[0].length, username: user!.username, id: user!.id }));
    const urls = [...text.matchAll(/https?:\/\/\S+/g)].map((m) => ({
      start: m.index!,
      end: m.index! + m[0].length,
      url: m[0],
      expanded_url: m[0],
      display_url: m[0].replace(/^https?:\/\//, ''),
    }));
    if (mentions.length > 0 || urls.length > 0) tweet.entities = { ...(mentions.length > 0 ? { mentions } : {}), ...(urls.length > 0 ? { urls } : {}) };
    this.tweets.push(tweet);
    const author = this.users.get(authorId);
    if (author !== undefined) author.public_metrics.tweet_count += 1;
    return tweet;
  }

  tweet(id: string): Tweet | undefined {
    return this.tweets.find((t) => t.id === id);
  }

  /** GET /2/users/:id/timelines/reverse_chronological: own posts and those of followed accounts, newest first. */
  homeTimeline(userId: string): Tweet[] {
    const visible = new Set([userId, ...(this.follows.get(userId) ?? [])]);
    return this.tweets.filter((t) => visible.has(t.author_id)).sort((a, b) => compareIds(b.id, a.id));
  }

  /** GET /2/users/:id/mentions: posts that mention the user, newest first. */
  mentions(userId: string): Tweet[] {
    return this.tweets
      .filter((t) => t.author_id !== userId && (t.entities?.mentions ?? []).some((m) => m.id === userId))
      .sort((a, b) => compareIds(b.id, a.id));
  }

  sendDm(senderId: string, recipientId: string, text: string): DmEvent {
    const [a, b] = [senderId, recipientId].sort(compareIds);
    const event: DmEvent = {
      id: this.id(),
      event_type: 'MessageCreate',
      text,
      sender_id: senderId,
      dm_conversation_id: `${a}-${b}`,
      created_at: this.now(),
      participant_ids: [senderId, recipientId],
    };
    this.dmEvents.push(event);
    return event;
  }

  /** GET /2/dm_events: every event in the user's one-to-one conversations, newest first. */
  dmEventsOf(userId: string): DmEvent[] {
    return this.dmEvents.filter((e) => e.participant_ids.includes(userId)).sort((a, b) => compareIds(b.id, a.id));
  }
}
