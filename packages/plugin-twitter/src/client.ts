/**
 * Builds the twitter-api-v2 client: HTTPS through an agent that trusts the
 * configured CAs, and every request sent to the configured API base URL.
 *
 * The library has no base-URL option and its `cloneWithPrefix` is broken, so
 * a request plugin rewrites the URL. It does so in `onBeforeRequestConfig`,
 * before the request is signed: an OAuth 1.0a signature covers the base URI
 * the request is really sent to (RFC 5849 §3.4.1.2), which a rewrite in
 * `onBeforeRequest` (after signing) would break.
 */
import type { Agent } from 'node:https';
import { TwitterApi, type ITwitterApiClientPlugin, type TwitterApiTokens } from 'twitter-api-v2';

/** Origins the library has built in; requests to them go to the configured base instead. */
const LIBRARY_ORIGINS = new Set(['https://api.x.com', 'https://api.twitter.com']);

export function rewriteUrl(url: string, base: URL): string {
  const parsed = new URL(url.startsWith('http') ? url : `https://${url}`);
  if (!LIBRARY_ORIGINS.has(parsed.origin)) return parsed.href;
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}${parsed.pathname}${parsed.search}`, base.origin).href;
}

export function baseUrlPlugin(base: URL): ITwitterApiClientPlugin {
  return {
    onBeforeRequestConfig({ params }) {
      params.url = rewriteUrl(params.url, base);
    },
  };
}

export interface ClientFactoryOptions {
  apiBaseUrl: string;
  /** The core's HTTPS agent (`ctx.net.httpsAgent()`): proxy, certificate checks and the trust question. */
  agent: Agent;
}

export type ClientTokens = string | TwitterApiTokens | { clientId: string; clientSecret?: string };

/** One agent per connection, so disconnecting closes its sockets. */
export class ClientFactory {
  readonly agent: Agent;
  private readonly plugin: ITwitterApiClientPlugin;

  constructor(options: ClientFactoryOptions) {
    const base = new URL(options.apiBaseUrl);
    if (base.protocol !== 'https:') throw new TypeError('The API base URL must use https');
    this.plugin = baseUrlPlugin(base);
    this.agent = options.agent;
  }

  create(tokens: ClientTokens): TwitterApi {
    const settings = { plugins: [this.plugin], httpAgent: this.agent };
    if (typeof tokens === 'string') return new TwitterApi(tokens, settings);
    if ('clientId' in tokens) return new TwitterApi(tokens, settings);
    return new TwitterApi(tokens, settings);
  }

  destroy(): void {
    this.agent.destroy();
  }
}
