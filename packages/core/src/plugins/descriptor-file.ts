import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginError } from '../errors/ParleyError.js';
import { manifestField, type PluginDescriptor } from './descriptor.js';
import { parseManifest } from './manifest.js';

/** Where the built descriptor module is, relative to the package directory. */
export const DESCRIPTOR_MODULE = 'dist/descriptor.js';

export interface DescriptorSyncResult {
  packageJson: string;
  /** True when package.json differed from the descriptor (and was rewritten, unless checking). */
  changed: boolean;
}

function isDescriptor(value: unknown): value is PluginDescriptor {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return typeof value === 'object' && value !== null && (kind === 'protocol' || kind === 'feature');
}

/**
 * Brings the `parley` field of a package's package.json in line with its built
 * descriptor module (`descriptor` export of dist/descriptor.js). With
 * `check`, nothing is written: `changed` says whether the file is stale.
 */
export async function syncManifestField(packageDir: string, options: { check?: boolean; module?: string } = {}): Promise<DescriptorSyncResult> {
  const packageJson = join(packageDir, 'package.json');
  const text = await readFile(packageJson, 'utf8');
  const pkg = JSON.parse(text) as Record<string, unknown>;
  const name = typeof pkg.name === 'string' ? pkg.name : packageDir;
  const modulePath = resolve(packageDir, options.module ?? DESCRIPTOR_MODULE);
  if (!existsSync(modulePath)) {
    throw new PluginError('plugin-invalid-manifest', name, `Plugin ${name}: ${modulePath} does not exist; build the package first`);
  }
  const loaded = (await import(pathToFileURL(modulePath).href)) as { descriptor?: unknown };
  if (!isDescriptor(loaded.descriptor)) {
    throw new PluginError('plugin-invalid-manifest', name, `Plugin ${name}: ${modulePath} exports no "descriptor"`);
  }
  const next = { ...pkg, parley: manifestField(loaded.descriptor) };
  // The core reads what was generated: a descriptor it would refuse fails the build, not the user.
  parseManifest(next);
  const nextText = `${JSON.stringify(next, null, 2)}\n`;
  const changed = nextText !== text;
  if (changed && options.check !== true) await writeFile(packageJson, nextText);
  return { packageJson, changed };
}
