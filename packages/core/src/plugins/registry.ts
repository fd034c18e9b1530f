import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import satisfies from 'semver/functions/satisfies.js';
import { PluginError } from '../errors/ParleyError.js';
import { CORE_API_VERSION, type FeaturePlugin, type ParleyPlugin, type ProtocolCapabilities, type ProtocolPlugin } from './contract.js';
import type { DiscoveredPlugin } from './discovery.js';
import type { PluginManifest } from './manifest.js';
import type { OptionSchema } from '../options/schema.js';
import { CORE_ACCOUNT_OPTIONS } from '../net/account-options.js';
import type { CommandSpec } from '../commands/registry.js';

/**
 * Where a plugin stands: `available` found (its manifest read) but its code
 * not loaded yet; `loaded`; `incompatible` its core API range excludes this
 * core; `failed` its code could not be loaded; `disabled` turned off after
 * repeated faults. `PluginInfo.error` says why for the last three.
 */
export type PluginStatus = 'available' | 'loaded' | 'incompatible' | 'failed' | 'disabled';

/** What a UI lists about a plugin, loaded or not. */
export interface PluginInfo {
  /** Its name for people. */
  name: string;
  /** A protocol or a feature plugin. */
  kind: 'protocol' | 'feature';
  /** Protocol id, or the package name for a feature plugin. */
  id: string;
  /** The package's version; "0.0.0" for a plugin given in code. */
  version: string;
  /** The npm package it came from; undefined for a plugin given in code. */
  packageName: string | undefined;
  /** The folder it was found in; undefined for a plugin given in code. */
  dir: string | undefined;
  /** The core API range it declares, when it declares one. */
  coreApi: string | undefined;
  /** Where it stands. */
  status: PluginStatus;
  /** Why it is incompatible, failed or disabled. */
  error: PluginError | undefined;
}

/** A protocol as a UI needs it before its code is loaded. */
export interface ProtocolDescriptor {
  /** The protocol id accounts refer to ("xmpp"). */
  id: string;
  /** Its name for people ("XMPP"). */
  name: string;
  /** The account options, to draw the account form from. */
  options: OptionSchema;
  /** What the protocol can do, to decide which actions to offer. */
  capabilities: ProtocolCapabilities;
  /** How the form names the username ("JID"); undefined: "Username". */
  usernameLabel: string | undefined;
  /** The slash commands the protocol adds (name, usage, help). */
  commands: readonly CommandSpec[];
}

interface Entry {
  info: PluginInfo;
  manifest: PluginManifest | undefined;
  plugin: ParleyPlugin | undefined;
  loading: Promise<ParleyPlugin> | undefined;
  /** file: URL of the module exporting the plugin, where known: a worker thread can load it from there. */
  module: string | undefined;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkShape(plugin: unknown, manifest: PluginManifest): ParleyPlugin {
  const p = plugin as { kind?: unknown; id?: unknown; createConnection?: unknown; apply?: unknown } | null;
  if (typeof p !== 'object' || p === null) throw new Error('its entry exports no plugin object (default export expected)');
  if (p.kind !== manifest.kind) throw new Error(`it exports a ${String(p.kind)} plugin, its package.json says ${manifest.kind}`);
  if (manifest.kind === 'protocol') {
    if (p.id !== manifest.id) throw new Error(`it exports protocol "${String(p.id)}", its package.json says "${manifest.id}"`);
    if (typeof p.createConnection !== 'function') throw new Error('it has no createConnection function');
  } else if (typeof p.apply !== 'function') {
    throw new Error('it has no apply function');
  }
  return p as unknown as ParleyPlugin;
}

/**
 * Every plugin the core knows: discovered packages (by manifest, code not
 * yet loaded) and plugin objects an embedder registered directly. Code is
 * imported on first use, once; a plugin whose core API range does not
 * include this core is listed but never loaded.
 */
export class PluginRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly coreApiVersion: string = CORE_API_VERSION) {}

  private key(kind: 'protocol' | 'feature', id: string): string {
    return `${kind}:${id}`;
  }

  /**
   * A plugin object handed over by the embedder (tests, bundled plugins).
   * With `module`, the file: URL it was imported from, its connections can
   * run in a worker thread; without, only in process.
   */
  addDirect(plugin: ParleyPlugin, coreApi?: string, module?: string): void {
    const id = plugin.kind === 'protocol' ? plugin.id : plugin.name;
    const info: PluginInfo = {
      name: plugin.name,
      kind: plugin.kind,
      id,
      version: '0.0.0',
      packageName: undefined,
      dir: undefined,
      coreApi,
      status: 'loaded',
      error: undefined,
    };
    if (coreApi !== undefined && !satisfies(this.coreApiVersion, coreApi)) {
      info.status = 'incompatible';
      info.error = this.incompatible(plugin.name, coreApi);
    }
    this.entries.set(this.key(plugin.kind, id), { info, manifest: undefined, plugin: info.status === 'loaded' ? plugin : undefined, loading: undefined, module });
  }

  addDiscovered(found: DiscoveredPlugin): void {
    const { manifest, dir } = found;
    const key = this.key(manifest.kind, manifest.id);
    if (this.entries.has(key)) return; // A directly registered plugin wins.
    const info: PluginInfo = {
      name: manifest.name,
      kind: manifest.kind,
      id: manifest.id,
      version: manifest.version,
      packageName: manifest.packageName,
      dir,
      coreApi: manifest.coreApi,
      status: 'available',
      error: undefined,
    };
    if (!satisfies(this.coreApiVersion, manifest.coreApi)) {
      info.status = 'incompatible';
      info.error = this.incompatible(manifest.packageName, manifest.coreApi);
    }
    this.entries.set(key, { info, manifest, plugin: undefined, loading: undefined, module: pathToFileURL(join(dir, manifest.entry)).href });
  }

  private incompatible(name: string, range: string): PluginError {
    return new PluginError(
      'plugin-incompatible',
      name,
      `Plugin ${name} needs core API ${range}, but this Parley provides ${this.coreApiVersion}: update the plugin or Parley`,
    );
  }

  list(): PluginInfo[] {
    return [...this.entries.values()].map((e) => ({ ...e.info }));
  }

  protocols(): ProtocolDescriptor[] {
    return [...this.entries.values()]
      .filter((e) => e.info.kind === 'protocol' && e.info.status !== 'incompatible')
      .map((e) => this.describe(e));
  }

  /** A usable protocol's descriptor; undefined when none is installed or it is incompatible. */
  protocol(id: string): ProtocolDescriptor | undefined {
    const entry = this.entries.get(this.key('protocol', id));
    return entry === undefined || entry.info.status === 'incompatible' ? undefined : this.describe(entry);
  }

  /** Why a protocol cannot be used, when a plugin for it is installed but refused. */
  refusal(id: string): PluginError | undefined {
    return this.entries.get(this.key('protocol', id))?.info.error;
  }

  private describe(entry: Entry): ProtocolDescriptor {
    const loaded = entry.plugin as ProtocolPlugin | undefined;
    const source = loaded ?? entry.manifest;
    return {
      id: entry.info.id,
      name: entry.info.name,
      options: { ...(source?.options ?? {}), ...CORE_ACCOUNT_OPTIONS },
      capabilities: source?.capabilities ?? {},
      usernameLabel: source?.usernameLabel,
      commands: source?.commands ?? [],
    };
  }

  /** Imports a protocol plugin's code (once) and returns it. */
  async loadProtocol(id: string): Promise<ProtocolPlugin> {
    const entry = this.entries.get(this.key('protocol', id));
    if (entry === undefined) throw new PluginError('plugin-not-found', id, `No plugin for protocol "${id}" is installed`);
    return (await this.load(entry)) as ProtocolPlugin;
  }

  /** Feature plugins that can be loaded (compatible, not failed). */
  featureIds(): string[] {
    return [...this.entries.values()].filter((e) => e.info.kind === 'feature' && (e.info.status === 'available' || e.info.status === 'loaded')).map((e) => e.info.id);
  }

  async loadFeature(id: string): Promise<FeaturePlugin> {
    const entry = this.entries.get(this.key('feature', id));
    if (entry === undefined) throw new PluginError('plugin-not-found', id, `No feature plugin "${id}" is installed`);
    return (await this.load(entry)) as FeaturePlugin;
  }

  /** Where a protocol plugin's code can be imported from (a worker thread needs it), if known. */
  moduleOf(protocol: string): string | undefined {
    return this.entries.get(this.key('protocol', protocol))?.module;
  }

  private load(entry: Entry): Promise<ParleyPlugin> {
    if (entry.info.status === 'disabled' && entry.info.error !== undefined) return Promise.reject(entry.info.error);
    if (entry.plugin !== undefined) return Promise.resolve(entry.plugin);
    if (entry.info.error !== undefined) return Promise.reject(entry.info.error);
    entry.loading ??= this.importPlugin(entry);
    return entry.loading;
  }

  private async importPlugin(entry: Entry): Promise<ParleyPlugin> {
    const manifest = entry.manifest!;
    const url = pathToFileURL(join(entry.info.dir!, manifest.entry)).href;
    try {
      const module = (await import(url)) as { default?: unknown; plugin?: unknown };
      const plugin = checkShape(module.default ?? module.plugin, manifest);
      entry.plugin = plugin;
      entry.info.status = 'loaded';
      return plugin;
    } catch (cause) {
      const error = new PluginError('plugin-load-failed', manifest.packageName, `Plugin ${manifest.packageName} failed to load: ${describeError(cause)}`, { cause });
      entry.info.status = 'failed';
      entry.info.error = error;
      throw error;
    } finally {
      entry.loading = undefined;
    }
  }

  /** Marks a plugin disabled after repeated faults. */
  disable(kind: 'protocol' | 'feature', id: string, error: PluginError): void {
    const entry = this.entries.get(this.key(kind, id));
    if (entry === undefined) return;
    entry.info.status = 'disabled';
    entry.info.error = error;
  }
}
