import { join } from 'node:path';
import type { CoreConfig } from '../bootstrap/core-config.js';
import { ConfigError } from '../errors/ParleyError.js';
import { checkProxySetting, parseProxyUrl, splitProxyPassword } from '../net/proxy.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { writeJsonFile } from '../storage/json-file.js';
import { GLOBAL_SECRETS } from './protocol-host.js';

/** The global proxy as a UI shows it: never with its password. */
export interface GlobalProxyView {
  /** "none", "env" or a proxy URL without its password; "none" when nothing is set. */
  value: string;
  /** Who decides it: the embedder's `proxy` option (fixed), the config file, or nobody (no proxy). */
  source: 'embedder' | 'config' | 'unset';
  /** The URL names a user and a password for it is in the secret store. */
  passwordStored: boolean;
}

/** @internal What the core gives the settings service. */
export interface SettingsServiceDeps {
  config: CoreConfig;
  /** The config directory, where `config.json` lives. */
  configDir: string;
  /** The embedder's `proxy` option, which wins over the config file. */
  embedderProxy: string | undefined;
  secrets: SecretStore;
}

/**
 * The core's global settings a UI shows and changes: the proxy every account
 * set to "default" uses. A change applies to the next connection an account
 * opens; connections already open keep the proxy they were opened through.
 */
export class SettingsService {
  /** @internal Made by the core; reach it as `parley.settings`. */
  constructor(private readonly deps: SettingsServiceDeps) {}

  /** The global proxy as it stands, and where it comes from. */
  async proxy(): Promise<GlobalProxyView> {
    const { config, embedderProxy } = this.deps;
    const value = embedderProxy ?? config.proxy;
    const source = embedderProxy !== undefined ? 'embedder' : config.proxy !== undefined ? 'config' : 'unset';
    if (value === undefined || value === '' || value === 'default') return { value: 'none', source, passwordStored: false };
    const passwordStored = hasUser(value) && (await this.deps.secrets.get(GLOBAL_SECRETS, 'proxyPassword')) !== undefined;
    return { value, source, passwordStored };
  }

  /**
   * Sets the global proxy: "none", "env" or a proxy URL. A password written
   * into the URL goes to the secret store, and `config.json` keeps the URL
   * without it; `password` gives it separately (a prompt, stdin). A URL
   * without a user forgets a stored password.
   */
  async setProxy(value: string, password?: string): Promise<GlobalProxyView> {
    if (typeof value !== 'string') throw new ConfigError('invalid-config', 'The proxy must be text', 'proxy');
    if (value === 'default') throw new ConfigError('invalid-config', 'The global proxy cannot be "default": use "none", "env" or a proxy URL', 'proxy');
    if (this.deps.embedderProxy !== undefined) {
      throw new ConfigError('invalid-config', 'The proxy is fixed by the program that runs Parley (its proxy option); it cannot be changed here', 'proxy');
    }
    try {
      checkProxySetting(value);
    } catch (error) {
      throw new ConfigError('invalid-config', error instanceof Error ? error.message : String(error), 'proxy', { cause: error });
    }
    const split = splitProxyPassword(value);
    const secret = password ?? split.password;
    if (secret !== undefined && !hasUser(split.url)) throw new ConfigError('invalid-config', 'A proxy password needs a user name in the proxy URL (scheme://user@host:port)', 'proxy');
    const { config } = this.deps;
    const previous = config.proxy;
    config.proxy = split.url === '' ? 'none' : split.url;
    try {
      writeJsonFile(join(this.deps.configDir, 'config.json'), config);
    } catch (error) {
      config.proxy = previous;
      throw new ConfigError('invalid-config', `Could not save config.json: ${error instanceof Error ? error.message : String(error)}`, 'proxy', { cause: error });
    }
    if (secret !== undefined) await this.deps.secrets.set(GLOBAL_SECRETS, 'proxyPassword', secret);
    else if (!hasUser(split.url)) await this.deps.secrets.delete(GLOBAL_SECRETS, 'proxyPassword');
    return this.proxy();
  }
}

function hasUser(value: string): boolean {
  if (value === 'none' || value === 'env' || value === '' || value === 'default') return false;
  return parseProxyUrl(value).username !== undefined;
}
