import type { OptionSchema } from '@parley/core';

export const DEFAULT_API_BASE = 'https://api.x.com';

/**
 * The account form. Tokens are secrets (kept in the secret store); the
 * username is the account's @handle. OAuth 2.0 user-context tokens come from
 * the app's authorization-code flow with `offline.access` (for the refresh
 * token); OAuth 1.0a tokens from the app's "Keys and tokens" page.
 */
export const twitterOptions = {
  authMethod: {
    kind: 'choice',
    label: 'Authentication',
    choices: [
      { value: 'oauth2', label: 'OAuth 2.0 user tokens' },
      { value: 'oauth1', label: 'OAuth 1.0a user tokens' },
    ],
    default: 'oauth2',
  },
  clientId: { kind: 'string', label: 'OAuth 2.0 client ID', description: 'Needed to refresh an expired access token', maxLength: 200 },
  clientSecret: { kind: 'secret', label: 'OAuth 2.0 client secret', description: 'Only for confidential clients' },
  accessToken: { kind: 'secret', label: 'Access token', required: true },
  refreshToken: { kind: 'secret', label: 'OAuth 2.0 refresh token' },
  appKey: { kind: 'string', label: 'OAuth 1.0a API key (consumer key)', maxLength: 200 },
  appSecret: { kind: 'secret', label: 'OAuth 1.0a API key secret' },
  accessSecret: { kind: 'secret', label: 'OAuth 1.0a access token secret' },
  apiBaseUrl: {
    kind: 'string',
    label: 'API base URL',
    description: 'For API-compatible servers; HTTPS only',
    group: 'advanced',
    default: DEFAULT_API_BASE,
    pattern: '^https://[^\\s/?#]+(/[^\\s?#]*)?$',
    maxLength: 500,
  },
  timelinePollMs: { kind: 'integer', label: 'Home timeline polling interval (ms)', group: 'advanced', default: 60_000, min: 100, max: 3_600_000 },
  mentionsPollMs: { kind: 'integer', label: 'Mentions polling interval (ms)', group: 'advanced', default: 60_000, min: 100, max: 3_600_000 },
  dmPollMs: { kind: 'integer', label: 'Direct messages polling interval (ms)', group: 'advanced', default: 60_000, min: 100, max: 3_600_000 },
  followingPollMs: { kind: 'integer', label: 'Following list refresh interval (ms)', group: 'advanced', default: 900_000, min: 100, max: 86_400_000 },
  initialBacklog: { kind: 'integer', label: 'Posts to show on the first connection', group: 'advanced', default: 20, min: 0, max: 100 },
} as const satisfies OptionSchema;

export interface TwitterSettings {
  authMethod: 'oauth2' | 'oauth1';
  clientId: string | undefined;
  appKey: string | undefined;
  apiBaseUrl: string;
  timelinePollMs: number;
  mentionsPollMs: number;
  dmPollMs: number;
  followingPollMs: number;
  initialBacklog: number;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isInteger(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The core validates settings against the schema; this gives them types and defaults. */
export function readSettings(settings: Readonly<Record<string, unknown>>): TwitterSettings {
  const o = twitterOptions;
  return {
    authMethod: settings.authMethod === 'oauth1' ? 'oauth1' : 'oauth2',
    clientId: text(settings.clientId),
    appKey: text(settings.appKey),
    apiBaseUrl: text(settings.apiBaseUrl) ?? DEFAULT_API_BASE,
    timelinePollMs: int(settings.timelinePollMs, o.timelinePollMs.default, o.timelinePollMs.min, o.timelinePollMs.max),
    mentionsPollMs: int(settings.mentionsPollMs, o.mentionsPollMs.default, o.mentionsPollMs.min, o.mentionsPollMs.max),
    dmPollMs: int(settings.dmPollMs, o.dmPollMs.default, o.dmPollMs.min, o.dmPollMs.max),
    followingPollMs: int(settings.followingPollMs, o.followingPollMs.default, o.followingPollMs.min, o.followingPollMs.max),
    initialBacklog: int(settings.initialBacklog, o.initialBacklog.default, o.initialBacklog.min, o.initialBacklog.max),
  };
}
