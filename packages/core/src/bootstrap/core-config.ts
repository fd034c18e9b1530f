import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { readJsonFile } from '../storage/json-file.js';

/** The core's own settings file, `config.json` in the config directory. */
export interface CoreConfig {
  dnsServers?: string[];
  /** Feature plugins the user switched off. */
  disabledPlugins?: string[];
  /** Settings for feature plugins, by plugin name. */
  plugins?: Record<string, Record<string, unknown>>;
}

export function readCoreConfig(dir: string): CoreConfig {
  return readJsonFile<CoreConfig>(join(dir, 'config.json'), {}, (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
    const c = value as CoreConfig;
    if (c.dnsServers !== undefined && (!Array.isArray(c.dnsServers) || !c.dnsServers.every((s) => typeof s === 'string'))) throw new Error('dnsServers must be a list of addresses');
    if (c.disabledPlugins !== undefined && !Array.isArray(c.disabledPlugins)) throw new Error('disabledPlugins must be a list');
    return c;
  });
}

/** Settings every plugin connection shares, from the embedder's options, the environment and the config file, in that order. */
export class CoreSettings {
  constructor(
    private readonly options: { tls?: { ca?: readonly string[] }; dnsServers?: readonly string[]; env?: NodeJS.ProcessEnv },
    readonly config: CoreConfig,
  ) {}

  /** Certificate authorities for `tls.connect({ ca })`: undefined means Node's defaults. */
  tlsCa(): string[] | undefined {
    const extra = this.options.tls?.ca;
    return extra === undefined || extra.length === 0 ? undefined : [...rootCertificates, ...extra];
  }

  dnsServers(): readonly string[] | undefined {
    if (this.options.dnsServers !== undefined) return this.options.dnsServers;
    const fromEnv = (this.options.env ?? process.env).PARLEY_DNS_SERVERS;
    if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.split(/[\s,]+/).filter((s) => s !== '');
    return this.config.dnsServers;
  }
}
