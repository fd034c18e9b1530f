import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * The package folders of a node_modules folder, and a signature that changes
 * whenever a package is added, removed or replaced in it (npm replaces a
 * package's folder, which changes its parent's modification time).
 */
function listPackages(nodeModules: string): { dirs: string[]; signature: string } | undefined {
  if (!existsSync(nodeModules)) return undefined;
  const dirs: string[] = [];
  const times = [String(statSync(nodeModules).mtimeMs)];
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(nodeModules, entry.name);
    if (entry.name.startsWith('@')) {
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      times.push(`${entry.name}:${statSync(full).mtimeMs}`);
      for (const scoped of readdirSync(full, { withFileTypes: true })) dirs.push(join(full, scoped.name));
    } else if (entry.isDirectory() || entry.isSymbolicLink()) {
      dirs.push(full);
    }
  }
  return { dirs, signature: times.join('|') };
}

/** Package folders whose package.json mentions the `parley` field, found earlier, by node_modules folder. */
type DiscoveryIndex = Record<string, { signature: string; candidates: string[] }>;

function readIndex(path: string | undefined): DiscoveryIndex {
  if (path === undefined || !existsSync(path)) return {};
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as DiscoveryIndex) : {};
  } catch {
    return {}; // A damaged index is only a lost shortcut.
  }
}

function readPackage(dir: string): unknown {
  try {
    const text = readFileSync(join(dir, 'package.json'), 'utf8');
    // Most packages are not plugins: skip parsing what cannot have the field.
    if (!text.includes('"parley"')) return undefined;
    return JSON.parse(text);
  } catch {
    return undefined; // Not a package, or not ours to judge.
  }
}

/**
 * Finds plugin packages in `node_modules` folders: every package whose
 * package.json has a `parley` field. The first folder wins when a package
 * is in several, so the application's own copy beats a user's.
 *
 * With `indexPath`, the folders that hold plugins are remembered per
 * node_modules folder and reused while it is unchanged: a development tree
 * has hundreds of packages, and this runs at every start.
 */
export function discoverPlugins(nodeModulesDirs: readonly string[], indexPath?: string): DiscoveryResult {
  const seen = new Map<string, DiscoveredPlugin>();
  const invalid: PluginError[] = [];
  const index = readIndex(indexPath);
  let indexChanged = false;
  for (const nodeModules of nodeModulesDirs) {
    const listing = listPackages(nodeModules);
    if (listing === undefined) continue;
    const known = index[nodeModules];
    let candidates: string[];
    if (known !== undefined && known.signature === listing.signature) {
      candidates = known.candidates;
    } else {
      candidates = listing.dirs.filter((dir) => readPackage(dir) !== undefined);
      index[nodeModules] = { signature: listing.signature, candidates };
      indexChanged = true;
    }
    for (const dir of candidates) {
      const pkg = readPackage(dir);
      if (typeof pkg !== 'object' || pkg === null || !('parley' in pkg)) continue;
      try {
        const manifest = parseManifest(pkg);
        if (!seen.has(manifest.packageName)) seen.set(manifest.packageName, { manifest, dir: realpathSync(dir) });
      } catch (error) {
        if (ParleyError.isParleyError(error)) invalid.push(error as PluginError);
      }
    }
  }
  if (indexChanged && indexPath !== undefined) {
    try {
      mkdirSync(dirname(indexPath), { recursive: true, mode: 0o700 });
      writeFileSync(indexPath, JSON.stringify(index));
    } catch {
      // Read-only data folder: discovery just stays slower.
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
