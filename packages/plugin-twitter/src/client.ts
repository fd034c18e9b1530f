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
import { Agent } from 'node:https';
import { PinningAgent } from './tls-trust.js';
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
  /** Extra CAs (PEM); undefined means Node's defaults. */
  ca: string[] | undefined;
  /** SHA-256 fingerprints of certificates the user trusted. */
  pinned?: readonly string[];
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
    const agentOptions = { keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) };
    this.agent = options.pinned !== undefined && options.pinned.length > 0 ? new PinningAgent(agentOptions, new Set(options.pinned)) : new Agent(agentOptions);
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
