/**
 * One request to the X API v2: honours a spent rate-limit window before
 * sending, records the window from the response headers, refreshes an
 * expired OAuth 2.0 token once on 401, and turns failures into XApiError.
 */
import type { Session } from './auth.js';
import { classify, XApiError } from './errors.js';
import { RateLimits, readRateWindow } from './rate-limit.js';

export const ENDPOINTS = {
  me: 'GET /2/users/me',
  userByName: 'GET /2/users/by/username/:username',
  home: 'GET /2/users/:id/timelines/reverse_chronological',
  mentions: 'GET /2/users/:id/mentions',
  following: 'GET /2/users/:id/following',
  post: 'POST /2/tweets',
  like: 'POST /2/users/:id/likes',
  repost: 'POST /2/users/:id/retweets',
  dmEvents: 'GET /2/dm_events',
  sendDm: 'POST /2/dm_conversations/with/:participant_id/messages',
} as const;

export type EndpointName = (typeof ENDPOINTS)[keyof typeof ENDPOINTS];

/** What each endpoint is, in the user's words, for messages. */
export const ENDPOINT_LABELS: Record<EndpointName, string> = {
  [ENDPOINTS.me]: 'your profile',
  [ENDPOINTS.userByName]: 'user lookup',
  [ENDPOINTS.home]: 'the home timeline',
  [ENDPOINTS.mentions]: 'mentions',
  [ENDPOINTS.following]: 'the accounts you follow',
  [ENDPOINTS.post]: 'posting',
  [ENDPOINTS.like]: 'likes',
  [ENDPOINTS.repost]: 'reposts',
  [ENDPOINTS.dmEvents]: 'direct messages',
  [ENDPOINTS.sendDm]: 'sending direct messages',
};

/** Query and path parameters as twitter-api-v2 takes them. */
export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface ApiResult {
  data: unknown;
}

export class XApi {
  readonly rateLimits: RateLimits;

  constructor(
    private readonly session: Session,
    rateLimits?: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.rateLimits = rateLimits ?? new RateLimits(now);
  }

  get(endpoint: EndpointName, path: string, query: Query = {}, params?: Query): Promise<ApiResult> {
    return this.send(endpoint, (client) => client.v2.get(path, query, { fullResponse: true, params }));
  }

  post(endpoint: EndpointName, path: string, body: Record<string, unknown>, params?: Query): Promise<ApiResult> {
    return this.send(endpoint, (client) => client.v2.post(path, body, { fullResponse: true, params }));
  }

  private async send(endpoint: EndpointName, call: (client: Session['client']) => Promise<{ data: unknown; headers: Record<string, string | string[] | undefined> }>): Promise<ApiResult> {
    const wait = this.rateLimits.delayFor(endpoint);
    if (wait > 0) throw new XApiError('rate-limited', endpoint, `${endpoint}: rate limit reached`, { resetAt: this.now() + wait });
    if (this.session.expiresSoon) await this.session.refresh(this.session.accessToken);
    for (let attempt = 0; ; attempt++) {
      const token = this.session.accessToken;
      try {
        const response = await call(this.session.client);
        this.rateLimits.update(endpoint, readRateWindow(response.headers));
        return { data: response.data };
      } catch (err) {
        const failure = classify(err, endpoint);
        const headers = (err as { headers?: Record<string, string> }).headers;
        this.rateLimits.update(endpoint, readRateWindow(headers));
        if (failure.kind === 'unauthorized' && attempt === 0 && (await this.session.refresh(token))) continue;
        throw failure;
      }
    }
  }
}
