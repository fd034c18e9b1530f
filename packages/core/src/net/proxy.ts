import { isIP } from 'node:net';
import { ConfigError } from '../errors/ParleyError.js';

/**
 * The proxy kinds Parley speaks, as URL schemes. `socks5h` is SOCKS5 with the
 * destination's name resolved by the proxy: nothing about it reaches local DNS.
 */
export const PROXY_SCHEMES = ['socks5', 'socks5h', 'socks4', 'http'] as const;
/** One of `PROXY_SCHEMES`. */
export type ProxyScheme = (typeof PROXY_SCHEMES)[number];

/** One proxy server. Plain data: it crosses to a plugin's worker. */
export interface ProxyServer {
  /** The proxy protocol; socks5h resolves host names at the proxy. */
  scheme: ProxyScheme;
  /** The proxy's host name or address. */
  host: string;
  /** The proxy's port. */
  port: number;
  /** The proxy user, when it wants one. */
  username?: string;
  /** The proxy password; kept in the secret store, never in settings or logs. */
  password?: string;
}

/**
 * Where a connection goes through, as the core resolved the account's and the
 * global setting: no proxy, the environment (read per destination, for
 * NO_PROXY), or one server.
 */
export type ProxyChoice =
  | {
      /** Connect directly. */
      mode: 'none';
    }
  | {
      /** Use the proxy the environment names for each destination. */
      mode: 'env';
      /** The environment's proxy variables (http_proxy, all_proxy, no_proxy…). */
      env: Readonly<Record<string, string>>;
    }
  | {
      /** Use one proxy for every destination. */
      mode: 'server';
      /** That proxy. */
      server: ProxyServer;
    };

/** The values of the `proxy` setting besides a URL. */
export const PROXY_KEYWORDS = ['default', 'none', 'env'] as const;

const DEFAULT_PORTS: Record<ProxyScheme, number> = { socks5: 1080, socks5h: 1080, socks4: 1080, http: 8080 };

function invalid(message: string): ConfigError {
  return new ConfigError('invalid-settings', message, 'proxy');
}

/**
 * Parses `socks5://[user:pass@]host:port`, `socks5h://…`, `socks4://…` or
 * `http://[user:pass@]host:port`. The error never repeats the URL: it may hold a password.
 */
export function parseProxyUrl(text: string): ProxyServer {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw invalid('The proxy must be "none", "env", "default" or a URL such as socks5://host:1080 or http://host:3128');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!(PROXY_SCHEMES as readonly string[]).includes(scheme)) throw invalid(`Unsupported proxy kind "${scheme}": use socks5, socks5h, socks4 or http`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid('The proxy URL has no host');
  if (url.pathname !== '' && url.pathname !== '/') throw invalid('The proxy URL must not have a path');
  const server: ProxyServer = { scheme: scheme as ProxyScheme, host, port: url.port === '' ? DEFAULT_PORTS[scheme as ProxyScheme] : Number(url.port) };
  if (url.username !== '') server.username = decodeURIComponent(url.username);
  if (url.password !== '') server.password = decodeURIComponent(url.password);
  return server;
}

/** Checks a `proxy` setting's value: a keyword or a proxy URL. */
export function checkProxySetting(value: string): void {
  if ((PROXY_KEYWORDS as readonly string[]).includes(value) || value === '') return;
  parseProxyUrl(value);
}

/**
 * A proxy URL given with a password is stored without it: the password goes
 * to the secret store. Returns the URL to keep and the password, if any.
 */
export function splitProxyPassword(value: string): {
  /** The setting without the password. */
  url: string;
  /** The password it held, if any. */
  password: string | undefined;
} {
  if ((PROXY_KEYWORDS as readonly string[]).includes(value) || value === '') return { url: value, password: undefined };
  const server = parseProxyUrl(value);
  if (server.password === undefined) return { url: value, password: undefined };
  return { url: formatProxyUrl({ ...server, password: undefined }), password: server.password };
}

/** The URL of a proxy, without its password (for settings, logs and messages). */
export function formatProxyUrl(server: ProxyServer): string {
  const host = isIP(server.host) === 6 ? `[${server.host}]` : server.host;
  const user = server.username === undefined ? '' : `${encodeURIComponent(server.username)}@`;
  return `${server.scheme}://${user}${host}:${server.port}`;
}

/** How a proxy is named in messages: never with its password. */
export function describeProxy(server: ProxyServer): string {
  const kind = server.scheme === 'http' ? 'HTTP proxy' : server.scheme === 'socks4' ? 'SOCKS4 proxy' : 'SOCKS5 proxy';
  return `${kind} ${isIP(server.host) === 6 ? `[${server.host}]` : server.host}:${server.port}`;
}

/** The environment variables that choose a proxy, as curl reads them (lower case first). */
export const PROXY_ENV_NAMES = ['all_proxy', 'ALL_PROXY', 'https_proxy', 'HTTPS_PROXY', 'http_proxy', 'no_proxy', 'NO_PROXY'] as const;

/** Keeps only the proxy variables of an environment, to hand over to a worker. */
export function proxyEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROXY_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

function pick(env: Readonly<Record<string, string>>, name: string): string | undefined {
  return env[name.toLowerCase()] ?? env[name.toUpperCase()];
}

/** NO_PROXY as curl reads it: `*`, or names and domain suffixes (a leading dot optional), with an optional port. */
export function bypassesProxy(noProxy: string | undefined, host: string, port: number): boolean {
  if (noProxy === undefined) return false;
  const name = host.toLowerCase().replace(/\.$/, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    if (portMatch !== null && !entry.startsWith('[') && isIP(entry) !== 6) {
      if (Number(portMatch[2]) !== port) continue;
      entry = portMatch[1]!;
    }
    entry = entry.replace(/^\[(.*)\]$/, '$1').replace(/^\*?\./, '');
    if (name === entry || name.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The proxy the environment names for a destination, or undefined for a
 * direct connection. Every Parley connection is a tunnel, so `https_proxy`
 * applies to TLS ones and `http_proxy` to plain ones, `all_proxy` to both.
 */
export function proxyFromEnvironment(env: Readonly<Record<string, string>>, host: string, port: number, tls: boolean): ProxyServer | undefined {
  if (bypassesProxy(pick(env, 'no_proxy'), host, port)) return undefined;
  const value = (tls ? pick(env, 'https_proxy') : env.http_proxy) ?? pick(env, 'all_proxy');
  if (value === undefined) return undefined;
  // curl takes a URL without a scheme as an HTTP proxy.
  return parseProxyUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
}

/**
 * Resolves the account's `proxy` setting against the global one: `default`
 * (or nothing) means the global setting, which defaults to no proxy.
 */
export function chooseProxy(accountSetting: string | undefined, globalSetting: string | undefined, env: NodeJS.ProcessEnv): ProxyChoice {
  const account = accountSetting === undefined || accountSetting === '' ? 'default' : accountSetting;
  const value = account === 'default' ? (globalSetting === undefined || globalSetting === '' || globalSetting === 'default' ? 'none' : globalSetting) : account;
  if (value === 'none') return { mode: 'none' };
  if (value === 'env') return { mode: 'env', env: proxyEnvironment(env) };
  return { mode: 'server', server: parseProxyUrl(value) };
}
