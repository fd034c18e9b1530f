/**
 * Posts that mention the user as the "Mentions" chat: GET /2/users/:id/mentions
 * (max_results 5–100). https://docs.x.com/x-api/posts/timelines/introduction
 */
import { ENDPOINTS } from './api.js';
import { TweetFeed, type FeedDeps } from './tweet-feed.js';

export const MENTIONS_ROOM = 'mentions';

export function mentionsFeed(deps: FeedDeps, backlog: number): TweetFeed {
  return new TweetFeed({ endpoint: ENDPOINTS.mentions, path: 'users/:id/mentions', room: MENTIONS_ROOM, stateKey: 'sinceId.mentions', minPage: 5, maxPage: 100, backlog }, deps);
}
