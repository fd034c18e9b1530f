import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors/ParleyError.js';
import { separateProxyPassword } from './account-options.js';
import { bypassesProxy, chooseProxy, describeProxy, parseProxyUrl, proxyFromEnvironment, splitProxyPassword } from './proxy.js';

describe('proxy URLs', () => {
  it('reads each kind, with credentials percent-decoded and default ports', () => {
    expect(parseProxyUrl('socks5://u:p%40ss@127.0.0.1:1080')).toEqual({ scheme: 'socks5', host: '127.0.0.1', port: 1080, username: 'u', password: 'p@ss' });
    expect(parseProxyUrl('socks5h://tor.example')).toEqual({ scheme: 'socks5h', host: 'tor.example', port: 1080 });
    expect(parseProxyUrl('socks4://[::1]:9050')).toEqual({ scheme: 'socks4', host: '::1', port: 9050 });
    expect(parseProxyUrl('HTTP://proxy.corp:3128')).toEqual({ scheme: 'http', host: 'proxy.corp', port: 3128 });
  });

  it.each(['', 'proxy.corp:3128x', 'ftp://host:21', 'https://host:443', 'socks5://', 'http://host:3128/path', 'not a url', 'socks5://host:99999'])('refuses %j with a ConfigError on the proxy field', (bad) => {
    let error: unknown;
    try {
      parseProxyUrl(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('proxy');
  });

  it('never repeats a password in an error or a description', () => {
    let message = '';
    try {
      parseProxyUrl('gopher://user:hunter2@host:70');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('hunter2');
    expect(describeProxy(parseProxyUrl('http://user:hunter2@host:3128'))).toBe('HTTP proxy host:3128');
  });

  it('moves a password out of the URL, into the secrets', () => {
    expect(splitProxyPassword('http://u:secret@host:3128')).toEqual({ url: 'http://u@host:3128', password: 'secret' });
    expect(splitProxyPassword('env')).toEqual({ url: 'env', password: undefined });
    const separated = separateProxyPassword({ settings: { proxy: 'socks5://me:pw@h:1080', server: 'x' }, secrets: { password: 'p' } });
    expect(separated.settings).toEqual({ proxy: 'socks5://me@h:1080', server: 'x' });
    expect(separated.secrets).toEqual({ password: 'p', proxyPassword: 'pw' });
    expect(() => separateProxyPassword({ settings: { proxy: 'bogus' }, secrets: {} })).toThrow(ConfigError);
  });
});

describe('the proxy setting', () => {
  it('"default" follows the global setting, which defaults to none', () => {
    expect(chooseProxy(undefined, undefined, {})).toEqual({ mode: 'none' });
    expect(chooseProxy('default', 'socks5://h:1', {})).toEqual({ mode: 'server', server: { scheme: 'socks5', host: 'h', port: 1 } });
    expect(chooseProxy('none', 'socks5://h:1', {})).toEqual({ mode: 'none' });
    expect(chooseProxy('env', undefined, { HTTPS_PROXY: 'http://p:8080', PATH: '/bin' })).toEqual({ mode: 'env', env: { HTTPS_PROXY: 'http://p:8080' } });
  });
});

describe('the environment, as curl reads it', () => {
  const env = { https_proxy: 'socks5://s:1080', http_proxy: 'p.corp:3128', no_proxy: 'localhost,.internal.corp, 10.0.0.1, svc.example:6667' };
  it('https_proxy for TLS, http_proxy (a bare host:port is HTTP) for plain, all_proxy for either', () => {
    expect(proxyFromEnvironment(env, 'chat.example', 5223, true)).toMatchObject({ scheme: 'socks5', host: 's' });
    expect(proxyFromEnvironment(env, 'chat.example', 6667, false)).toMatchObject({ scheme: 'http', host: 'p.corp', port: 3128 });
    expect(proxyFromEnvironment({ ALL_PROXY: 'socks5h://t:9050' }, 'x.example', 1, false)).toMatchObject({ scheme: 'socks5h' });
    // Upper-case HTTP_PROXY is ignored, as by curl (a CGI request header could set it).
    expect(proxyFromEnvironment({ HTTP_PROXY: 'http://evil:1' }, 'x.example', 80, false)).toBeUndefined();
  });

  it('NO_PROXY: names, domain suffixes, addresses, a port, and *', () => {
    expect(proxyFromEnvironment(env, 'localhost', 6667, false)).toBeUndefined();
    expect(proxyFromEnvironment(env, 'irc.internal.corp', 6667, false)).toBeUndefined();
    expect(proxyFromEnvironment(env, 'internal.corp', 6667, false)).toBeUndefined();
    expect(proxyFromEnvironment(env, 'notinternal.corp', 6667, false)).toBeDefined();
    expect(bypassesProxy('svc.example:6667', 'svc.example', 6697)).toBe(false);
    expect(bypassesProxy('svc.example:6667', 'svc.example', 6667)).toBe(true);
    expect(bypassesProxy('10.0.0.1', '10.0.0.1', 1)).toBe(true);
    expect(bypassesProxy('*', 'anything', 1)).toBe(true);
    expect(bypassesProxy(' , ,', 'anything', 1)).toBe(false);
  });
});
