/**
 * The account's credentials and the OAuth 2.0 refresh. X access tokens last
 * two hours; the refresh token (granted with `offline.access`) rotates on
 * every use, so refreshes are single-flight and the new pair is stored at
 * once (RFC 6749 §6; https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token).
 */
import { ConnectionError } from '@parley/core';
import type { TwitterApi } from 'twitter-api-v2';
import type { ClientFactory } from './client.js';
import { classify } from './errors.js';
import type { TwitterSettings } from './options.js';

export type Credentials =
  | { kind: 'oauth2'; clientId?: string; clientSecret?: string; accessToken: string; refreshToken?: string }
  | { kind: 'oauth1'; appKey: string; appSecret: string; accessToken: string; accessSecret: string };

export interface SecretSource {
  getSecret(key: string, ask?: { prompt: string }): Promise<string | undefined>;
}

export async function loadCredentials(settings: TwitterSettings, secrets: SecretSource): Promise<Credentials> {
  const accessToken = await secrets.getSecret('accessToken', { prompt: 'X access token' });
  if (accessToken === undefined || accessToken === '') throw ConnectionError.invalidSettings('No access token is set for this account', { hint: 'Enter the access token of your X app' });
  if (settings.authMethod === 'oauth1') {
    const appSecret = await secrets.getSecret('appSecret', { prompt: 'X API key secret' });
    const accessSecret = await secrets.getSecret('accessSecret', { prompt: 'X access token secret' });
    if (settings.appKey === undefined || !appSecret || !accessSecret) {
      throw ConnectionError.invalidSettings('OAuth 1.0a needs the API key, its secret and the access token secret', { hint: 'Fill in all four OAuth 1.0a values' });
    }
    return { kind: 'oauth1', appKey: settings.appKey, appSecret, accessToken, accessSecret };
  }
  const refreshToken = (await secrets.getSecret('refreshToken')) || undefined;
  const clientSecret = (await secrets.getSecret('clientSecret')) || undefined;
  return { kind: 'oauth2', clientId: settings.clientId, clientSecret, accessToken, refreshToken };
}

export interface TokenStore {
  setSecret(key: string, value: string): Promise<void>;
  setState(key: string, value: unknown): void;
  getState<T>(key: string): T | undefined;
}

export class Session {
  private current: TwitterApi;
  private refreshing: Promise<boolean> | undefined;

  constructor(
    private credentials: Credentials,
    private readonly factory: ClientFactory,
    private readonly store: TokenStore,
    private readonly now: () => number = Date.now,
  ) {
    this.current = this.build();
  }

  private build(): TwitterApi {
    const c = this.credentials;
    if (c.kind === 'oauth1') return this.factory.create({ appKey: c.appKey, appSecret: c.appSecret, accessToken: c.accessToken, accessSecret: c.accessSecret });
    return this.factory.create(c.accessToken);
  }

  get client(): TwitterApi {
    return this.current;
  }

  get accessToken(): string {
    return this.credentials.accessToken;
  }

  get canRefresh(): boolean {
    const c = this.credentials;
    return c.kind === 'oauth2' && c.refreshToken !== undefined && c.clientId !== undefined;
  }

  /** The stored expiry is near: refresh before the server says 401. */
  get expiresSoon(): boolean {
    const at = this.store.getState<number>('tokenExpiresAt');
    return this.canRefresh && typeof at === 'number' && at - this.now() < 60_000;
  }

  /**
   * Gets a new access token unless another caller already replaced `stale`.
   * Resolves false when no refresh is possible or the server refused it.
   */
  refresh(stale: string): Promise<boolean> {
    if (this.credentials.accessToken !== stale) return Promise.resolve(true);
    if (this.refreshing !== undefined) return this.refreshing;
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const c = this.credentials;
    if (c.kind !== 'oauth2' || c.refreshToken === undefined || c.clientId === undefined) return false;
    const requester = this.factory.create(c.clientSecret === undefined ? { clientId: c.clientId } : { clientId: c.clientId, clientSecret: c.clientSecret });
    let result: { accessToken: string; refreshToken?: string; expiresIn: number };
    try {
      result = await requester.refreshOAuth2Token(c.refreshToken);
    } catch (err) {
      const failure = classify(err, 'POST /2/oauth2/token');
      // A refused refresh token means signing in again; anything else may pass.
      if (failure.kind === 'rejected' || failure.kind === 'unauthorized' || failure.kind === 'forbidden') return false;
      throw failure;
    }
    if (typeof result.accessToken !== 'string' || result.accessToken === '') return false;
    this.credentials = { ...c, accessToken: result.accessToken, refreshToken: result.refreshToken ?? c.refreshToken };
    this.current = this.build();
    // Store at once: the old refresh token is spent.
    await this.store.setSecret('accessToken', result.accessToken);
    if (result.refreshToken !== undefined) await this.store.setSecret('refreshToken', result.refreshToken);
    if (typeof result.expiresIn === 'number' && Number.isFinite(result.expiresIn)) this.store.setState('tokenExpiresAt', this.now() + result.expiresIn * 1000);
    return true;
  }
}
