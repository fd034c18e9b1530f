import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginError } from '../errors/ParleyError.js';
import { ParleyError } from '../errors/ParleyError.js';
import { parseManifest, type PluginManifest } from './manifest.js';

export interface DiscoveredPlugin {
  manifest: PluginManifest;
  /** The package's directory. */
  dir: string;
}

export interface DiscoveryResult {
  plugins: DiscoveredPlugin[];
  /** Packages that have a `parley` field but a broken one. */
  invalid: PluginError[];
}

function packageDirs(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const dirs: string[] = [];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      for (const scoped of readdirSync(full, { withFileTypes: true })) dirs.push(join(full, scoped.name));
    } else if (entry.isDirectory() || entry.isSymbolicLink()) {
      dirs.push(full);
    }
  }
  return dirs;
}

/**
 * Finds plugin packages in `node_modules` folders: every package whose
 * package.json has a `parley` field. The first folder wins when a package
 * is in several, so the application's own copy beats a user's.
 */
export function discoverPlugins(nodeModulesDirs: readonly string[]): DiscoveryResult {
  const seen = new Map<string, DiscoveredPlugin>();
  const invalid: PluginError[] = [];
  for (const nodeModules of nodeModulesDirs) {
    for (const dir of packageDirs(nodeModules)) {
      let pkg: unknown;
      try {
        pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        continue; // Not a package, or not ours to judge.
      }
      if (typeof pkg !== 'object' || pkg === null || !('parley' in pkg)) continue;
      try {
        const manifest = parseManifest(pkg);
        if (!seen.has(manifest.packageName)) seen.set(manifest.packageName, { manifest, dir: realpathSync(dir) });
      } catch (error) {
        if (ParleyError.isParleyError(error)) invalid.push(error as PluginError);
      }
    }
  }
  return { plugins: [...seen.values()], invalid };
}

/**
 * Plugins declare `@parley/core` as a peer dependency: the application that
 * loads them provides it. For the user plugin folder, where `npm install`
 * puts plugins without the core, that means linking the running core in, so
 * a plugin's `import '@parley/core'` finds the core that loads it.
 */
export function provideCoreTo(nodeModules: string, coreRoot: string): void {
  if (!existsSync(nodeModules)) return;
  const target = join(nodeModules, '@parley', 'core');
  if (existsSync(target)) return;
  mkdirSync(join(nodeModules, '@parley'), { recursive: true });
  try {
    symlinkSync(coreRoot, target, 'dir');
  } catch {
    // Another process linked it first, or the folder is read-only: the plugin's own copy (if any) is used.
  }
}
