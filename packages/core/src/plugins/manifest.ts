// The single function, not the whole semver package: it is read at every start.
import validRange from 'semver/ranges/valid.js';
import { PluginError } from '../errors/ParleyError.js';
import { assertValidSchema } from '../options/validate.js';
import type { OptionSchema } from '../options/schema.js';
import type { ProtocolCapabilities } from './contract.js';
import type { CommandSpec } from '../commands/registry.js';

/**
 * What a plugin package says about itself in the `parley` field of its
 * package.json: enough for a UI to list it and draw its account form
 * without importing its code.
 */
export interface PluginManifest {
  /** npm package name. */
  packageName: string;
  /** The package's version (`0.0.0` when package.json has none), shown by `parley plugins`. */
  version: string;
  /** `protocol`: adds a protocol accounts can use; `feature`: hooks into the core (auto-reply, logging). */
  kind: 'protocol' | 'feature';
  /** Protocol id for protocol plugins; the package name for feature plugins. */
  id: string;
  /** The name a UI shows ("XMPP"); the package name when the manifest gives none. */
  name: string;
  /** The package.json `description`, for a plugin list. */
  description?: string;
  /** Semver range of the core API it was written for. */
  coreApi: string;
  /** Module to import, relative to the package directory. */
  entry: string;
  /** The account form's fields (protocol plugins) or the plugin's settings (feature plugins); empty when it has none. */
  options: OptionSchema;
  /** What the protocol supports, so a UI can hide what it cannot do before the plugin is loaded; empty for feature plugins. */
  capabilities: ProtocolCapabilities;
  /** What the account form calls the username ("JID", "Nick"); a UI says "Username" when absent. */
  usernameLabel?: string;
  /** The slash commands the plugin adds, for help and completion before it is loaded. */
  commands: readonly CommandSpec[];
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;

function text(value: unknown, field: string, packageName: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 1000) {
    throw new PluginError('plugin-invalid-manifest', packageName, `Plugin ${packageName}: "parley.${field}" must be text`);
  }
  return value;
}

/** Reads and checks the `parley` field of a package.json; throws a PluginError naming the problem. */
export function parseManifest(pkg: unknown): PluginManifest {
  const p = pkg as { name?: unknown; version?: unknown; main?: unknown; description?: unknown; parley?: unknown } | null;
  const packageName = typeof p?.name === 'string' ? p.name : '(unnamed package)';
  if (typeof p !== 'object' || p === null || typeof p.parley !== 'object' || p.parley === null) {
    throw new PluginError('plugin-invalid-manifest', packageName, `Package ${packageName} has no "parley" field`);
  }
  const m = p.parley as Record<string, unknown>;
  const kind = m.kind;
  if (kind !== 'protocol' && kind !== 'feature') {
    throw new PluginError('plugin-invalid-manifest', packageName, `Plugin ${packageName}: "parley.kind" must be "protocol" or "feature"`);
  }
  const coreApi = text(m.coreApi, 'coreApi', packageName)!;
  if (validRange(coreApi) === null) {
    throw new PluginError('plugin-invalid-manifest', packageName, `Plugin ${packageName}: "parley.coreApi" is not a semver range: ${coreApi}`);
  }
  const id = kind === 'protocol' ? text(m.id, 'id', packageName)! : packageName;
  if (kind === 'protocol' && !ID.test(id)) {
    throw new PluginError('plugin-invalid-manifest', packageName, `Plugin ${packageName}: protocol id "${id}" must be lower-case letters, digits and dashes`);
  }
  const entry = text(m.entry ?? p.main ?? './index.js', 'entry', packageName)!;
  if (entry.startsWith('/') || entry.split(/[\\/]/).includes('..')) {
    throw new PluginError('plugin-invalid-manifest', packageName, `Plugin ${packageName}: "parley.entry" must stay inside the package`);
  }
  const options = (m.options ?? {}) as unknown;
  try {
    assertValidSchema(options, `Plugin ${packageName}`);
  } catch (cause) {
    throw new PluginError('plugin-invalid-manifest', packageName, (cause as Error).message, { cause });
  }
  const commands = Array.isArray(m.commands)
    ? m.commands.map((c: unknown) => {
        const cmd = c as { name?: unknown; help?: unknown; usage?: unknown };
        const spec: CommandSpec = { name: text(cmd?.name, 'commands[].name', packageName)!, help: text(cmd?.help, 'commands[].help', packageName)! };
        const usage = text(cmd?.usage, 'commands[].usage', packageName, true);
        if (usage !== undefined) spec.usage = usage;
        return spec;
      })
    : [];
  const manifest: PluginManifest = {
    packageName,
    version: typeof p.version === 'string' ? p.version : '0.0.0',
    kind,
    id,
    name: text(m.name ?? packageName, 'name', packageName)!,
    coreApi,
    entry,
    options: options as OptionSchema,
    capabilities: (typeof m.capabilities === 'object' && m.capabilities !== null ? m.capabilities : {}) as ProtocolCapabilities,
    commands,
  };
  const description = typeof p.description === 'string' ? p.description : undefined;
  if (description !== undefined) manifest.description = description;
  const usernameLabel = text(m.usernameLabel, 'usernameLabel', packageName, true);
  if (usernameLabel !== undefined) manifest.usernameLabel = usernameLabel;
  return manifest;
}
