import { rootCertificates } from 'node:tls';
import { isAbsolute, join } from 'node:path';
import { readJsonFile } from '../storage/json-file.js';
import type { NetConfig } from '../net/net.js';
import { chooseProxy } from '../net/proxy.js';
import { DEFAULT_MAX_INCOMING_SIZE, type TransferSettings } from '../transfers/transfer-manager.js';
import { xdgDownloadDir } from '../transfers/download-dir.js';

/** The core's own settings file, `config.json` in the config directory. */
export interface CoreConfig {
  dnsServers?: string[];
  /** The global proxy: "none", "env" or a proxy URL without its password (that is a secret). */
  proxy?: string;
  /** Feature plugins the user switched off. */
  disabledPlugins?: string[];
  /** Settings for feature plugins, by plugin name. */
  plugins?: Record<string, Record<string, unknown>>;
  /** File transfer: download folder, largest incoming file in bytes, auto-accept from buddies. */
  transfers?: { downloadDir?: string; maxIncomingSize?: number; autoAcceptFromBuddies?: boolean };
}

export function readCoreConfig(dir: string): CoreConfig {
  return readJsonFile<CoreConfig>(join(dir, 'config.json'), {}, (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
    const c = value as CoreConfig;
    if (c.dnsServers !== undefined && (!Array.isArray(c.dnsServers) || !c.dnsServers.every((s) => typeof s === 'string'))) throw new Error('dnsServers must be a list of addresses');
    if (c.proxy !== undefined && typeof c.proxy !== 'string') throw new Error('proxy must be text');
    if (c.disabledPlugins !== undefined && !Array.isArray(c.disabledPlugins)) throw new Error('disabledPlugins must be a list');
    const t = c.transfers as Record<string, unknown> | undefined;
    if (t !== undefined) {
      if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new Error('transfers must be an object');
      if (t.downloadDir !== undefined && (typeof t.downloadDir !== 'string' || !isAbsolute(t.downloadDir))) throw new Error('transfers.downloadDir must be an absolute path');
      if (t.maxIncomingSize !== undefined && (typeof t.maxIncomingSize !== 'number' || !Number.isSafeInteger(t.maxIncomingSize) || t.maxIncomingSize < 0)) throw new Error('transfers.maxIncomingSize must be a number of bytes');
      if (t.autoAcceptFromBuddies !== undefined && typeof t.autoAcceptFromBuddies !== 'boolean') throw new Error('transfers.autoAcceptFromBuddies must be true or false');
    }
    return c;
  });
}

/** Settings every plugin connection shares, from the embedder's options, the environment and the config file, in that order. */
export class CoreSettings {
  constructor(
    private readonly options: { tls?: { ca?: readonly string[] }; dnsServers?: readonly string[]; env?: NodeJS.ProcessEnv; proxy?: string; connectTimeoutMs?: number; transfers?: Partial<TransferSettings> },
    readonly config: CoreConfig,
  ) {}

  /** Certificate authorities for `tls.connect({ ca })`: undefined means Node's defaults. */
  tlsCa(): string[] | undefined {
    const extra = this.options.tls?.ca;
    return extra === undefined || extra.length === 0 ? undefined : [...rootCertificates, ...extra];
  }

  /** The global proxy setting: the embedder's, else the config file's. */
  globalProxy(): string | undefined {
    return this.options.proxy ?? this.config.proxy;
  }

  /**
   * The network configuration of one account's connections: its `proxy`
   * setting resolved against the global one, the CAs, DNS servers and timeout.
   * The proxy password is not in here: `NetCallbacks.proxyPassword` fetches it.
   */
  netConfig(accountProxy: string | undefined): NetConfig {
    const config: NetConfig = { proxy: chooseProxy(accountProxy, this.globalProxy(), this.options.env ?? process.env) };
    const ca = this.tlsCa();
    if (ca !== undefined) config.tlsCa = ca;
    const dns = this.dnsServers();
    if (dns !== undefined) config.dnsServers = dns;
    if (this.options.connectTimeoutMs !== undefined) config.connectTimeoutMs = this.options.connectTimeoutMs;
    return config;
  }

  /** File transfer settings: the embedder's, else the config file's, else the defaults. */
  transfers(): TransferSettings {
    const own = this.options.transfers ?? {};
    const file = this.config.transfers ?? {};
    return {
      downloadDir: own.downloadDir ?? file.downloadDir ?? xdgDownloadDir(this.options.env ?? process.env),
      maxIncomingSize: own.maxIncomingSize ?? file.maxIncomingSize ?? DEFAULT_MAX_INCOMING_SIZE,
      autoAcceptFromBuddies: own.autoAcceptFromBuddies ?? file.autoAcceptFromBuddies ?? false,
    };
  }

  dnsServers(): readonly string[] | undefined {
    if (this.options.dnsServers !== undefined) return this.options.dnsServers;
    const fromEnv = (this.options.env ?? process.env).PARLEY_DNS_SERVERS;
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(/[\s,]+/).filter((s) => s !== '');
    return this.config.dnsServers;
  }
}
