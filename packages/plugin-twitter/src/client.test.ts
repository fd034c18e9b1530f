import { Agent } from 'node:https';
import { describe, expect, it } from 'vitest';
import { ClientFactory, rewriteUrl } from './client.js';

describe('API base URL', () => {
  it('sends the library’s built-in URLs to the configured base, keeping path and query', () => {
    const base = new URL('https://127.0.0.1:8443');
    expect(rewriteUrl('https://api.x.com/2/users/me?user.fields=name', base)).toBe('https://127.0.0.1:8443/2/users/me?user.fields=name');
    expect(rewriteUrl('https://api.twitter.com/2/oauth2/token', base)).toBe('https://127.0.0.1:8443/2/oauth2/token');
    expect(rewriteUrl('api.x.com/2/tweets', base)).toBe('https://127.0.0.1:8443/2/tweets');
  });

  it('keeps a path prefix of the base', () => {
    expect(rewriteUrl('https://api.x.com/2/tweets', new URL('https://proxy.example/x-api/'))).toBe('https://proxy.example/x-api/2/tweets');
  });

  it('leaves other hosts alone', () => {
    expect(rewriteUrl('https://upload.example/1.1/media', new URL('https://127.0.0.1'))).toBe('https://upload.example/1.1/media');
  });

  it('refuses a base that is not https', () => {
    expect(() => new ClientFactory({ apiBaseUrl: 'http://127.0.0.1:80', agent: new Agent() })).toThrow(/https/);
  });
});
