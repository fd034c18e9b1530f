/**
 * The home timeline as the "Timeline" chat: GET /2/users/:id/timelines/reverse_chronological
 * (max_results 1–100). https://docs.x.com/x-api/posts/timelines/introduction
 */
import { ENDPOINTS } from './api.js';
import { TweetFeed, type FeedDeps } from './tweet-feed.js';

export const TIMELINE_ROOM = 'timeline';

export function timelineFeed(deps: FeedDeps, backlog: number): TweetFeed {
  return new TweetFeed(
    { endpoint: ENDPOINTS.home, path: 'users/:id/timelines/reverse_chronological', room: TIMELINE_ROOM, stateKey: 'sinceId.timeline', minPage: 1, maxPage: 100, backlog },
    deps,
  );
}
