import type { OptionSchema } from '../options/schema.js';
import type { CommandSpec } from '../commands/registry.js';
import type { ProtocolCapabilities, ProtocolCommand } from './contract.js';

/**
 * What a protocol plugin declares about itself, written once in TypeScript
 * (conventionally `src/descriptor.ts`, exporting `descriptor`). The plugin's
 * code builds on it, and the build writes it into the `parley` field of
 * package.json (`parley-plugin-descriptor`), so a UI can draw the account form
 * before the plugin's code is imported.
 */
export interface ProtocolPluginDescriptor {
  /** A protocol plugin, not a feature. */
  kind: 'protocol';
  /** Stable protocol id, e.g. "xmpp": lower-case letters, digits and dashes. */
  id: string;
  /** The protocol's name for people ("XMPP"). */
  name: string;
  /** Semver range of the core API the plugin was written for (see `CORE_API_VERSION`). */
  coreApi: string;
  /** Module the core imports, relative to the package directory. */
  entry: string;
  /** How the username is named in forms ("JID", "Sign-in address"). */
  usernameLabel?: string;
  /** The account options, as `ProtocolPlugin.options`. */
  options: OptionSchema;
  /** What the protocol can do, as `ProtocolPlugin.capabilities`. */
  capabilities: ProtocolCapabilities;
  /** The slash commands the plugin adds, without their code. */
  commands: readonly CommandSpec[];
}

/** What a feature plugin declares about itself; see {@link ProtocolPluginDescriptor}. */
export interface FeaturePluginDescriptor {
  /** A feature plugin (hooks, events, commands), not a protocol. */
  kind: 'feature';
  /** The plugin's name: unique among loaded plugins, the key of its settings in the config file. */
  name: string;
  /** Semver range of the core API the plugin was written for. */
  coreApi: string;
  /** Module the core imports, relative to the package directory. */
  entry: string;
}

/** A plugin's single declaration of itself: the source of its package.json `parley` field. */
export type PluginDescriptor = ProtocolPluginDescriptor | FeaturePluginDescriptor;

/** Identity for plugin authors: types a descriptor and keeps its literal types (option names, command names). */
export function definePluginDescriptor<const D extends PluginDescriptor>(descriptor: D): D {
  return descriptor;
}

/**
 * The `parley` field of package.json for a descriptor: plain JSON, with its
 * keys in a fixed order so the generated file is stable.
 */
export function manifestField(descriptor: PluginDescriptor): Record<string, unknown> {
  const field: Record<string, unknown> =
    descriptor.kind === 'protocol'
      ? {
          kind: descriptor.kind,
          id: descriptor.id,
          name: descriptor.name,
          coreApi: descriptor.coreApi,
          entry: descriptor.entry,
          ...(descriptor.usernameLabel === undefined ? {} : { usernameLabel: descriptor.usernameLabel }),
          options: descriptor.options,
          capabilities: descriptor.capabilities,
          commands: descriptor.commands.map((c) => ({ name: c.name, help: c.help, ...(c.usage === undefined ? {} : { usage: c.usage }) })),
        }
      : { kind: descriptor.kind, name: descriptor.name, coreApi: descriptor.coreApi, entry: descriptor.entry };
  // Through JSON, so what is compared is exactly what package.json can hold.
  return JSON.parse(JSON.stringify(field)) as Record<string, unknown>;
}

/** A command's code, keyed by the command's name in the descriptor. */
export type CommandHandlers<Specs extends readonly CommandSpec[]> = { readonly [K in Specs[number]['name']]: ProtocolCommand['run'] };

/**
 * The descriptor's commands with their code: the compiler reports a command
 * declared without a handler, or a handler for a command not declared.
 */
export function withCommandHandlers<const Specs extends readonly CommandSpec[]>(specs: Specs, handlers: CommandHandlers<Specs>): ProtocolCommand[] {
  const byName = handlers as Readonly<Record<string, ProtocolCommand['run']>>;
  return specs.map((spec) => ({ ...spec, run: byName[spec.name]! }));
}
