/**
 * A protocol-level X API v2 test server over HTTPS, for the endpoints the
 * plugin uses. It follows the published v2 reference
 * (https://docs.x.com/x-api): responses carry `data`, `includes`, `meta`
 * (result_count, newest_id, oldest_id, next_token) or `errors`; errors are
 * problem documents (title, detail, type, status); every response carries
 * the `x-rate-limit-limit/remaining/reset` headers and a spent window
 * answers 429. Tests drive it through `store` and the fault switches.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { compareIds, XStore, type DmEvent, type Tweet, type User } from './store.js';
import { parseOAuthHeader, verifySignature } from './oauth1.js';

export type Endpoint =
  | 'GET /2/users/me'
  | 'GET /2/users/by/username/:username'
  | 'GET /2/users/:id/timelines/reverse_chronological'
  | 'GET /2/users/:id/mentions'
  | 'GET /2/users/:id/following'
  | 'POST /2/tweets'
  | 'POST /2/users/:id/likes'
  | 'POST /2/users/:id/retweets'
  | 'GET /2/dm_events'
  | 'POST /2/dm_conversations/with/:participant_id/messages'
  | 'POST /2/oauth2/token';

export type Fault =
  /** 200 with a JSON body cut in half. */
  | 'malformed-json'
  /** Valid JSON with fields the reference does not define, at every level. */
  | 'unexpected-fields'
  /** Valid JSON whose items have the wrong types or lack required fields. */
  | 'wrong-types'
  /** 503 Service Unavailable problem document. */
  | 'server-error'
  /** The connection is closed before any response. */
  | 'drop'
  /** The answer's status, with the text `replaceBody` makes of its JSON body instead (fuzzing). */
  | { replaceBody(body: unknown): string };

export interface RequestRecord {
  method: string;
  endpoint: Endpoint | undefined;
  path: string;
  query: Record<string, string>;
  userId?: string;
  status: number;
  /** The address the request's connection came from (a proxied client comes from the proxy). */
  peer?: string;
}

interface OAuth2Token {
  userId: string;
  clientId: string;
  expiresAt: number;
}

interface RateWindow {
  limit: number;
  remaining: number;
  /** Epoch seconds, as in x-rate-limit-reset. */
  reset: number;
}

const ROUTES: Array<[string, RegExp, Endpoint]> = [
  ['GET', /^\/2\/users\/me$/, 'GET /2/users/me'],
  ['GET', /^\/2\/users\/by\/username\/([^/]+)$/, 'GET /2/users/by/username/:username'],
  ['GET', /^\/2\/users\/([^/]+)\/timelines\/reverse_chronological$/, 'GET /2/users/:id/timelines/reverse_chronological'],
  ['GET', /^\/2\/users\/([^/]+)\/mentions$/, 'GET /2/users/:id/mentions'],
  ['GET', /^\/2\/users\/([^/]+)\/following$/, 'GET /2/users/:id/following'],
  ['POST', /^\/2\/tweets$/, 'POST /2/tweets'],
  ['POST', /^\/2\/users\/([^/]+)\/likes$/, 'POST /2/users/:id/likes'],
  ['POST', /^\/2\/users\/([^/]+)\/retweets$/, 'POST /2/users/:id/retweets'],
  ['GET', /^\/2\/dm_events$/, 'GET /2/dm_events'],
  ['POST', /^\/2\/dm_conversations\/with\/([^/]+)\/messages$/, 'POST /2/dm_conversations/with/:participant_id/messages'],
  ['POST', /^\/2\/oauth2\/token$/, 'POST /2/oauth2/token'],
];

/** Page sizes per endpoint: [min, max, default], from each endpoint's reference. */
const PAGE_SIZES: Partial<Record<Endpoint, [number, number, number]>> = {
  'GET /2/users/:id/timelines/reverse_chronological': [1, 100, 100],
  'GET /2/users/:id/mentions': [5, 100, 10],
  'GET /2/users/:id/following': [1, 1000, 100],
  'GET /2/dm_events': [1, 100, 100],
};

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.title ?? status));
  }
}

function problem(status: number, title: string, detail: string, type = 'about:blank', extra: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem(status, { title, detail, type, status, ...extra });
}

function invalidRequest(parameter: string, value: string, message: string): HttpProblem {
  return new HttpProblem(400, {
    errors: [{ parameters: { [parameter]: [value] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  });
}

function fields(query: URLSearchParams, name: string): Set<string> {
  return new Set((query.get(name) ?? '').split(',').filter((f) => f !== ''));
}

/** The longest `text` a post has in a response; a longer post is a "note tweet". */
export const POST_TEXT_LIMIT = 280;

/**
 * A post as the API v2 returns it: a post longer than 280 characters has its
 * `text` cut to the first 280 (and only the entities that fall inside them);
 * the whole text, with its own entities, is in `note_tweet` and only when
 * `tweet.fields` asks for `note_tweet`.
 * https://docs.x.com/x-api/fundamentals/data-dictionary (note_tweet)
 */
function renderTweet(t: Tweet, tweetFields: Set<string>): Record<string, unknown> {
  const out = pick(t, ['id', 'text', 'edit_history_tweet_ids'], tweetFields);
  const characters = Array.from(t.text);
  if (characters.length <= POST_TEXT_LIMIT) return out;
  const cut = characters.slice(0, POST_TEXT_LIMIT).join('');
  out.text = cut;
  if (out.entities !== undefined && t.entities !== undefined) {
    const inside = <E extends { end: number }>(list: E[] | undefined) => list?.filter((e) => e.end <= cut.length);
    const mentions = inside(t.entities.mentions);
    const urls = inside(t.entities.urls);
    out.entities = { ...(mentions?.length ? { mentions } : {}), ...(urls?.length ? { urls } : {}) };
  }
  if (tweetFields.has('note_tweet')) out.note_tweet = { text: t.text, ...(t.entities !== undefined ? { entities: t.entities } : {}) };
  return out;
}

function pick<T extends object>(item: T, always: readonly string[], wanted: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (always.includes(k) || wanted.has(k)) out[k] = v;
  return out;
}

export interface XApiServerOptions {
  tls: { cert: string; key: string };
  /** Default requests per window for every endpoint (the reference's per-user limits are larger). */
  rateLimit?: number;
  rateWindowSeconds?: number;
  firstId?: bigint;
}

export class XApiServer {
  readonly store: XStore;
  readonly requests: RequestRecord[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly oauth2 = new Map<string, OAuth2Token>();
  private readonly refreshTokens = new Map<string, { userId: string; clientId: string }>();
  private readonly oauth1Apps = new Map<string, string>();
  private readonly oauth1Tokens = new Map<string, { secret: string; userId: string; consumerKey: string }>();
  private readonly pageTokens = new Map<string, { endpoint: Endpoint; userId: string; before: string }>();
  private readonly windows = new Map<string, RateWindow>();
  private readonly limits = new Map<Endpoint, { limit: number; windowSeconds: number }>();
  private readonly forbidden = new Set<Endpoint>();
  private readonly faults = new Map<Endpoint, Fault[]>();
  private readonly clientSecrets = new Map<string, string | undefined>();
  private port = 0;

  constructor(private readonly options: XApiServerOptions) {
    this.store = new XStore({ firstId: options.firstId });
    this.server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.send(res, 500, { title: 'Internal Server Error', detail: String(err), type: 'about:blank', status: 500 });
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- test controls -------------------------------------------------------

  /** Issues an OAuth 2.0 user-context access token and its refresh token. */
  issueOAuth2(userId: string, clientId: string, options: { expiresInSeconds?: number; clientSecret?: string } = {}): { accessToken: string; refreshToken: string } {
    const accessToken = randomBytes(24).toString('base64url');
    const refreshToken = randomBytes(24).toString('base64url');
    this.oauth2.set(accessToken, { userId, clientId, expiresAt: Date.now() + (options.expiresInSeconds ?? 7200) * 1000 });
    this.refreshTokens.set(refreshToken, { userId, clientId });
    this.clientSecrets.set(clientId, options.clientSecret);
    return { accessToken, refreshToken };
  }

  /** Makes an access token expired, as after its two hours. */
  expire(accessToken: string): void {
    const token = this.oauth2.get(accessToken);
    if (token !== undefined) token.expiresAt = 0;
  }

  /** Registers an app (consumer key/secret) and a user's OAuth 1.0a access token. */
  issueOAuth1(userId: string): { appKey: string; appSecret: string; accessToken: string; accessSecret: string } {
    const appKey = randomBytes(12).toString('hex');
    const appSecret = randomBytes(24).toString('hex');
    const accessToken = `${userId}-${randomBytes(12).toString('hex')}`;
    const accessSecret = randomBytes(24).toString('hex');
    this.oauth1Apps.set(appKey, appSecret);
    this.oauth1Tokens.set(accessToken, { secret: accessSecret, userId, consumerKey: appKey });
    return { appKey, appSecret, accessToken, accessSecret };
  }

  setRateLimit(endpoint: Endpoint, limit: number, windowSeconds: number): void {
    this.limits.set(endpoint, { limit, windowSeconds });
    for (const key of [...this.windows.keys()]) if (key.startsWith(`${endpoint}|`)) this.windows.delete(key);
  }

  /** Spends the user's window for `endpoint` (as another client of the same user would) for `seconds`. */
  exhaust(endpoint: Endpoint, userId: string, seconds: number): void {
    const limit = this.limits.get(endpoint)?.limit ?? this.options.rateLimit ?? 900;
    this.windows.set(`${endpoint}|${userId}`, { limit, remaining: 0, reset: Math.floor(Date.now() / 1000) + seconds });
  }

  /** Answers 403 client-not-enrolled on this endpoint, as when the access tier does not include it. */
  forbid(endpoint: Endpoint, on = true): void {
    if (on) this.forbidden.add(endpoint);
    else this.forbidden.delete(endpoint);
  }

  /** The next `times` requests to `endpoint` fail this way. */
  inject(endpoint: Endpoint, fault: Fault, times = 1): void {
    const list = this.faults.get(endpoint) ?? [];
    for (let i = 0; i < times; i++) list.push(fault);
    this.faults.set(endpoint, list);
  }

  /** Faults injected for `endpoint` that no request has met yet. */
  pendingFaults(endpoint: Endpoint): number {
    return this.faults.get(endpoint)?.length ?? 0;
  }

  requestsTo(endpoint: Endpoint): RequestRecord[] {
    return this.requests.filter((r) => r.endpoint === endpoint);
  }

  // ---- request handling ----------------------------------------------------

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const type = status >= 400 ? 'application/problem+json' : 'application/json; charset=utf-8';
    res.writeHead(status, { 'content-type': type, ...headers });
    res.end(JSON.stringify(body));
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 1_000_000) throw problem(413, 'Payload Too Large', 'Request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    let endpoint: Endpoint | undefined;
    let pathParam: string | undefined;
    for (const [m, re, name] of ROUTES) {
      const match = re.exec(url.pathname);
      if (match !== null && m === method) {
        endpoint = name;
        pathParam = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
        break;
      }
    }
    const record: RequestRecord = { method, endpoint, path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, peer: req.socket.remoteAddress ?? '' };
    this.requests.push(record);
    const rawBody = await this.readBody(req);
    let rateHeaders: Record<string, string> = {};
    try {
      if (endpoint === undefined) throw problem(404, 'Not Found Error', `Could not find ${method} ${url.pathname}`, 'https://api.twitter.com/2/problems/resource-not-found');
      const fault = this.faults.get(endpoint)?.shift();
      if (fault === 'drop') {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault === 'server-error') throw problem(503, 'Service Unavailable', 'Service Unavailable');
      if (endpoint === 'POST /2/oauth2/token') {
        const body = this.tokenEndpoint(req, rawBody);
        record.status = 200;
        this.send(res, 200, body);
        return;
      }
      const userId = this.authenticate(req, method, url, rawBody);
      record.userId = userId;
      rateHeaders = this.spend(endpoint, userId);
      if (this.forbidden.has(endpoint)) {
        throw new HttpProblem(403, {
          client_id: 'parley-test',
          detail:
            'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
          registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
          title: 'Client Forbidden',
          required_enrollment: 'Appropriate Level of API Access',
          reason: 'client-not-enrolled',
          type: 'https://api.twitter.com/2/problems/client-forbidden',
        });
      }
      const { status, body } = this.route(endpoint, userId, pathParam, url.searchParams, rawBody);
      record.status = status;
      if (typeof fault === 'object') {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...rateHeaders });
        res.end(fault.replaceBody(body));
        return;
      }
      if (fault === 'malformed-json') {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...rateHeaders });
        res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        return;
      }
      this.send(res, status, fault === 'unexpected-fields' ? addUnexpected(body) : fault === 'wrong-types' ? breakTypes(body) : body, rateHeaders);
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err;
      record.status = err.status;
      this.send(res, err.status, err.body, { ...rateHeaders, ...err.headers });
    }
  }

  /** Bearer (OAuth 2.0 user context) or OAuth 1.0a; both identify the user. */
  private authenticate(req: IncomingMessage, method: string, url: URL, rawBody: string): string {
    const header = req.headers.authorization ?? '';
    const unauthorized = problem(401, 'Unauthorized', 'Unauthorized');
    if (header.startsWith('Bearer ')) {
      const token = this.oauth2.get(header.slice(7));
      if (token === undefined || token.expiresAt <= Date.now()) throw unauthorized;
      return token.userId;
    }
    const oauth = parseOAuthHeader(header);
    if (oauth === undefined) throw unauthorized;
    const appSecret = this.oauth1Apps.get(oauth.get('oauth_consumer_key') ?? '');
    const token = this.oauth1Tokens.get(oauth.get('oauth_token') ?? '');
    if (appSecret === undefined || token === undefined || token.consumerKey !== oauth.get('oauth_consumer_key')) throw unauthorized;
    if (oauth.get('oauth_signature_method') !== 'HMAC-SHA1') throw unauthorized;
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(rawBody) : undefined;
    const ok = verifySignature({
      method,
      baseUri: `https://${req.headers.host}${url.pathname}`,
      oauth,
      query: url.searchParams,
      formBody: form,
      consumerSecret: appSecret,
      tokenSecret: token.secret,
    });
    if (!ok) throw unauthorized;
    return token.userId;
  }

  /** Per-user, per-endpoint windows; the headers go on every answer, 429 once spent. */
  private spend(endpoint: Endpoint, userId: string): Record<string, string> {
    const config = this.limits.get(endpoint) ?? { limit: this.options.rateLimit ?? 900, windowSeconds: this.options.rateWindowSeconds ?? 900 };
    const key = `${endpoint}|${userId}`;
    const now = Math.floor(Date.now() / 1000);
    let window = this.windows.get(key);
    if (window === undefined || window.reset <= now) {
      window = { limit: config.limit, remaining: config.limit, reset: now + config.windowSeconds };
      this.windows.set(key, window);
    }
    const spent = window.remaining <= 0;
    if (!spent) window.remaining -= 1;
    const headers = { 'x-rate-limit-limit': String(window.limit), 'x-rate-limit-remaining': String(window.remaining), 'x-rate-limit-reset': String(window.reset) };
    if (spent) throw new HttpProblem(429, { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }, headers);
    return headers;
  }

  /** POST /2/oauth2/token with grant_type=refresh_token; refresh tokens rotate (one use each). */
  private tokenEndpoint(req: IncomingMessage, rawBody: string): Record<string, unknown> {
    // RFC 6749 §6 specifies a form body; twitter-api-v2 sends JSON, which the X API also accepts.
    let params: Record<string, string>;
    if ((req.headers['content-type'] ?? '').includes('json')) {
      try {
        params = JSON.parse(rawBody) as Record<string, string>;
      } catch {
        throw new HttpProblem(400, { error: 'invalid_request', error_description: 'Malformed body' });
      }
    } else params = Object.fromEntries(new URLSearchParams(rawBody));
    const invalid = new HttpProblem(400, { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' });
    if (params.grant_type !== 'refresh_token') throw new HttpProblem(400, { error: 'unsupported_grant_type', error_description: 'Only refresh_token is served here' });
    const refresh = this.refreshTokens.get(params.refresh_token ?? '');
    if (refresh === undefined || refresh.clientId !== params.client_id) throw invalid;
    const secret = this.clientSecrets.get(refresh.clientId);
    if (secret !== undefined) {
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(refresh.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
      if (req.headers.authorization !== expected) throw new HttpProblem(401, { error: 'unauthorized_client', error_description: 'Missing valid authorization header' });
    }
    this.refreshTokens.delete(params.refresh_token!);
    const issued = this.issueOAuth2(refresh.userId, refresh.clientId, { clientSecret: secret });
    return {
      token_type: 'bearer',
      expires_in: 7200,
      access_token: issued.accessToken,
      scope: 'tweet.read tweet.write users.read follows.read like.write dm.read dm.write offline.access',
      refresh_token: issued.refreshToken,
    };
  }

  private parseJsonBody(rawBody: string): Record<string, unknown> {
    try {
      const value = JSON.parse(rawBody) as unknown;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // falls through
    }
    throw problem(400, 'Invalid Request', 'The request body is not a JSON object', 'https://api.twitter.com/2/problems/invalid-request');
  }

  private pageSize(endpoint: Endpoint, query: URLSearchParams): number {
    const [min, max, def] = PAGE_SIZES[endpoint]!;
    const raw = query.get('max_results');
    if (raw === null) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw invalidRequest('max_results', raw, `The \`max_results\` query parameter value [${raw}] is not between ${min} and ${max}`);
    return n;
  }

  private idParam(query: URLSearchParams, name: string): string | undefined {
    const raw = query.get(name);
    if (raw === null) return undefined;
    if (!/^\d{1,19}$/.test(raw)) throw invalidRequest(name, raw, `The \`${name}\` query parameter value [${raw}] does not match ^[0-9]{1,19}$`);
    return raw;
  }

  /** Newest-first list → one page, honouring since_id, until_id and pagination_token. */
  private paginate<T extends { id: string }>(endpoint: Endpoint, userId: string, items: T[], query: URLSearchParams, withIds: boolean): { page: T[]; meta: Record<string, unknown> } {
    const size = this.pageSize(endpoint, query);
    const since = withIds ? this.idParam(query, 'since_id') : undefined;
    const until = withIds ? this.idParam(query, 'until_id') : undefined;
    let before: string | undefined;
    const token = query.get('pagination_token');
    if (token !== null) {
      const saved = this.pageTokens.get(token);
      if (saved === undefined || saved.endpoint !== endpoint || saved.userId !== userId) throw invalidRequest('pagination_token', token, `The \`pagination_token\` query parameter value [${token}] is not valid`);
      before = saved.before;
    }
    const inRange = items.filter(
      (t) => (since === undefined || compareIds(t.id, since) > 0) && (until === undefined || compareIds(t.id, until) < 0) && (before === undefined || compareIds(t.id, before) < 0),
    );
    const page = inRange.slice(0, size);
    const meta: Record<string, unknown> = { result_count: page.length };
    if (page.length > 0 && withIds) {
      meta.newest_id = page[0]!.id;
      meta.oldest_id = page[page.length - 1]!.id;
    }
    if (inRange.length > size) {
      const next = randomBytes(16).toString('hex');
      this.pageTokens.set(next, { endpoint, userId, before: page[page.length - 1]!.id });
      meta.next_token = next;
    }
    return { page, meta };
  }

  private renderTweets(tweets: Tweet[], query: URLSearchParams): { data: Record<string, unknown>[]; includes?: Record<string, unknown> } {
    const tweetFields = fields(query, 'tweet.fields');
    const userFields = fields(query, 'user.fields');
    const expansions = fields(query, 'expansions');
    const data = tweets.map((t) => renderTweet(t, tweetFields));
    const users = new Map<string, User>();
    const referenced = new Map<string, Tweet>();
    for (const t of tweets) {
      if (expansions.has('author_id')) this.addUser(users, t.author_id);
      if (expansions.has('in_reply_to_user_id') && t.in_reply_to_user_id !== undefined) this.addUser(users, t.in_reply_to_user_id);
      if (expansions.has('referenced_tweets.id')) {
        for (const ref of t.referenced_tweets ?? []) {
          const target = this.store.tweet(ref.id);
          if (target === undefined) continue;
          referenced.set(target.id, target);
          if (expansions.has('referenced_tweets.id.author_id')) this.addUser(users, target.author_id);
        }
      }
    }
    const includes: Record<string, unknown> = {};
    if (users.size > 0) includes.users = [...users.values()].map((u) => this.renderUser(u, userFields));
    if (referenced.size > 0) includes.tweets = [...referenced.values()].map((t) => renderTweet(t, tweetFields));
    return Object.keys(includes).length > 0 ? { data, includes } : { data };
  }

  private addUser(into: Map<string, User>, id: string): void {
    const u = this.store.users.get(id);
    if (u !== undefined) into.set(id, u);
  }

  private renderUser(u: User, userFields: Set<string>): Record<string, unknown> {
    return pick(u, ['id', 'name', 'username'], userFields);
  }

  private route(endpoint: Endpoint, userId: string, pathParam: string | undefined, query: URLSearchParams, rawBody: string): { status: number; body: unknown } {
    const me = this.store.users.get(userId)!;
    const ownPath = () => {
      // Timelines of other users than the token's are not served by the user-context endpoints used here.
      if (pathParam !== userId) throw problem(403, 'Forbidden', 'You are not permitted to use this endpoint for another user', 'https://api.twitter.com/2/problems/not-authorized-for-resource');
    };
    switch (endpoint) {
      case 'GET /2/users/me':
        return { status: 200, body: { data: this.renderUser(me, fields(query, 'user.fields')) } };
      case 'GET /2/users/by/username/:username': {
        const u = this.store.userByName(pathParam ?? '');
        if (u === undefined) {
          return {
            status: 200,
            body: { errors: [{ value: pathParam, detail: `Could not find user with username: [${pathParam}].`, title: 'Not Found Error', resource_type: 'user', parameter: 'username', resource_id: pathParam, type: 'https://api.twitter.com/2/problems/resource-not-found' }] },
          };
        }
        return { status: 200, body: { data: this.renderUser(u, fields(query, 'user.fields')) } };
      }
      case 'GET /2/users/:id/timelines/reverse_chronological':
      case 'GET /2/users/:id/mentions': {
        ownPath();
        const all = endpoint === 'GET /2/users/:id/mentions' ? this.store.mentions(userId) : this.store.homeTimeline(userId);
        const { page, meta } = this.paginate(endpoint, userId, all, query, true);
        if (page.length === 0) return { status: 200, body: { meta } };
        return { status: 200, body: { ...this.renderTweets(page, query), meta } };
      }
      case 'GET /2/users/:id/following': {
        const target = this.store.users.get(pathParam ?? '');
        if (target === undefined) throw problem(404, 'Not Found Error', `Could not find user with id: [${pathParam}].`, 'https://api.twitter.com/2/problems/resource-not-found');
        const list = this.store.following(target.id);
        // Following is in follow order, not by id: paginate over positions.
        const indexed = list.map((u, i) => ({ id: String(list.length - i), user: u }));
        const { page, meta } = this.paginate(endpoint, userId, indexed, query, false);
        if (page.length === 0) return { status: 200, body: { meta } };
        return { status: 200, body: { data: page.map((p) => this.renderUser(p.user, fields(query, 'user.fields'))), meta } };
      }
      case 'POST /2/tweets': {
        const body = this.parseJsonBody(rawBody);
        const text = body.text;
        if (typeof text !== 'string' || text.trim() === '') throw problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.', 'https://api.twitter.com/2/problems/invalid-request', { errors: [{ message: '$.text: is missing but it is required' }] });
        if ([...text].length > 280) throw problem(403, 'Forbidden', 'You are not allowed to create a Tweet with more than 280 characters', 'about:blank');
        const reply = body.reply as { in_reply_to_tweet_id?: unknown } | undefined;
        const replyTo = typeof reply?.in_reply_to_tweet_id === 'string' ? reply.in_reply_to_tweet_id : undefined;
        if (replyTo !== undefined && this.store.tweet(replyTo) === undefined) throw problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.', 'https://api.twitter.com/2/problems/invalid-request', { errors: [{ message: 'The Tweet you are replying to is not visible or has been deleted.' }] });
        const quote = typeof body.quote_tweet_id === 'string' ? body.quote_tweet_id : undefined;
        const tweet = this.store.post(userId, text, { replyTo, quote });
        return { status: 201, body: { data: { id: tweet.id, text: tweet.text, edit_history_tweet_ids: tweet.edit_history_tweet_ids } } };
      }
      case 'POST /2/users/:id/likes':
      case 'POST /2/users/:id/retweets': {
        ownPath();
        const body = this.parseJsonBody(rawBody);
        const tweetId = typeof body.tweet_id === 'string' ? body.tweet_id : '';
        const target = this.store.tweet(tweetId);
        if (target === undefined) {
          return { status: 200, body: { errors: [{ value: tweetId, detail: `Could not find tweet with id: [${tweetId}].`, title: 'Not Found Error', resource_type: 'tweet', parameter: 'tweet_id', resource_id: tweetId, type: 'https://api.twitter.com/2/problems/resource-not-found' }] } };
        }
        if (endpoint === 'POST /2/users/:id/likes') {
          const set = this.store.likes.get(userId) ?? new Set<string>();
          set.add(tweetId);
          this.store.likes.set(userId, set);
          return { status: 200, body: { data: { liked: true } } };
        }
        const author = this.store.users.get(target.author_id);
        this.store.post(userId, `RT @${author?.username ?? 'unknown'}: ${target.text}`, { retweetOf: tweetId });
        return { status: 200, body: { data: { retweeted: true } } };
      }
      case 'GET /2/dm_events': {
        const eventTypes = fields(query, 'event_types');
        const all = this.store.dmEventsOf(userId).filter((e) => eventTypes.size === 0 || eventTypes.has(e.event_type));
        const { page, meta } = this.paginate(endpoint, userId, all, query, false);
        if (page.length === 0) return { status: 200, body: { meta } };
        const dmFields = fields(query, 'dm_event.fields');
        const expansions = fields(query, 'expansions');
        const users = new Map<string, User>();
        if (expansions.has('sender_id')) for (const e of page) this.addUser(users, e.sender_id);
        if (expansions.has('participant_ids')) for (const e of page) for (const p of e.participant_ids) this.addUser(users, p);
        const data = page.map((e: DmEvent) => pick(e, ['id', 'event_type', 'text'], dmFields));
        const body: Record<string, unknown> = { data, meta };
        if (users.size > 0) body.includes = { users: [...users.values()].map((u) => this.renderUser(u, fields(query, 'user.fields'))) };
        return { status: 200, body };
      }
      case 'POST /2/dm_conversations/with/:participant_id/messages': {
        const body = this.parseJsonBody(rawBody);
        const recipient = this.store.users.get(pathParam ?? '');
        if (recipient === undefined) throw problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.', 'https://api.twitter.com/2/problems/invalid-request', { errors: [{ message: `participant_id [${pathParam}] is not a valid user` }] });
        if (typeof body.text !== 'string' || body.text === '') throw problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.', 'https://api.twitter.com/2/problems/invalid-request', { errors: [{ message: '$.text: is missing but it is required' }] });
        const event = this.store.sendDm(userId, recipient.id, body.text);
        return { status: 201, body: { data: { dm_conversation_id: event.dm_conversation_id, dm_event_id: event.id } } };
      }
      default:
        throw problem(404, 'Not Found Error', 'Unknown endpoint');
    }
  }
}

/** Extra members everywhere: new API fields must not break a client. */
function addUnexpected(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(addUnexpected);
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[k] = addUnexpected(v);
  out.x_future_field = { nested: [1, 'two', null], flag: true };
  // A note_tweet of the wrong shape: the post's own text must still be shown.
  out.note_tweet = { text: 12345, entities: 'none' };
  return out;
}

/** Items with missing ids, numbers for text, objects where arrays belong. */
function breakTypes(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.data)) {
    return {
      ...b,
      data: [
        ...b.data,
        { text: 'no id here' },
        { id: 12345, text: 67890 },
        { id: '../../etc', text: null, author_id: { evil: true } },
        'a bare string',
        null,
      ],
      includes: { users: 'not a list', tweets: [{ id: null }] },
    };
  }
  if (b.data !== undefined) return { ...b, data: 'not an object' };
  return { ...b, meta: 'not an object' };
}
