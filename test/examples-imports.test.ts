import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The examples are what third parties copy: they may use only what packages export publicly.
const root = fileURLToPath(new URL('..', import.meta.url));
const examplesDir = join(root, 'examples');
const SOURCE = /\.(m?js|cjs|tsx?|mts|cts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

/** Every module specifier a source file names: import/export from, side-effect imports, import(), require(). */
export function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The package a bare specifier names, and the subpath after it ('' for the package itself). */
function splitBare(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, count).join('/'), subpath: parts.slice(count).join('/') };
}

/** Subpaths a package declares public in its `exports` ('.' → ''). */
function exportedSubpaths(name: string, from: string): Set<string> | undefined {
  let manifest: string;
  try {
    manifest = createRequire(join(from, 'noop.js')).resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: unknown };
  if (typeof pkg.exports !== 'object' || pkg.exports === null || Array.isArray(pkg.exports)) return new Set(['']);
  const keys = Object.keys(pkg.exports);
  if (!keys.every((k) => k.startsWith('.'))) return new Set(['']);
  return new Set(keys.map((k) => k.replace(/^\.\/?/, '')));
}

/**
 * Why `specifier` in `file` (inside the example at `exampleRoot`) is a private
 * path, or undefined when it is public: relative paths must stay inside the
 * example; a package may be named, a deeper path only when its `exports` lists it.
 */
export function privateImport(specifier: string, file: string, exampleRoot: string): string | undefined {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const target = resolve(dirname(file), specifier);
    return target === exampleRoot || target.startsWith(exampleRoot + sep) ? undefined : `reaches outside the example: ${relative(root, target)}`;
  }
  const { name, subpath } = splitBare(specifier);
  if (subpath === '') return undefined;
  if (name.startsWith('@parley/')) return `a private path of ${name}`;
  const exported = exportedSubpaths(name, dirname(file));
  return exported?.has(subpath) ? undefined : `a path ${name} does not export`;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...sourceFiles(full));
    } else if (SOURCE.test(name)) out.push(full);
  }
  return out;
}

describe('examples import only public exports', () => {
  it('finds specifiers in every form, and flags private ones', () => {
    const example = join(examplesDir, 'web');
    const file = join(example, 'lib', 'x.js');
    const source = [
      "import { createParley } from '@parley/core';",
      "import type { Lab } from '@parley/plugin-testkit/dist/lab.js';",
      "export { x } from '../../../packages/core/src/parley.js';",
      "import '@parley/core/dist/index.js';",
      "const m = await import('./local.js');",
      "const r = require('@parley/plugin-xmpp/src/index.ts');",
      "import { readFile } from 'node:fs/promises';",
      "import { defineConfig } from 'vitest/config';",
      "import { chromium } from 'playwright-core/lib/server';",
    ].join('\n');
    const found = specifiers(source);
    expect(found.sort()).toEqual(
      ['@parley/core', '@parley/plugin-testkit/dist/lab.js', '../../../packages/core/src/parley.js', '@parley/core/dist/index.js', './local.js', '@parley/plugin-xmpp/src/index.ts', 'node:fs/promises', 'vitest/config', 'playwright-core/lib/server'].sort(),
    );
    const flagged = found.filter((s) => privateImport(s, file, example) !== undefined).sort();
    expect(flagged).toEqual(['../../../packages/core/src/parley.js', '@parley/core/dist/index.js', '@parley/plugin-testkit/dist/lab.js', '@parley/plugin-xmpp/src/index.ts', 'playwright-core/lib/server'].sort());
  });

  it('no file under examples/ imports a private path of a package', () => {
    expect(existsSync(examplesDir)).toBe(true);
    const examples = readdirSync(examplesDir).filter((n) => statSync(join(examplesDir, n)).isDirectory());
    expect(examples).toEqual(expect.arrayContaining(['plugin-template', 'web']));
    const problems: string[] = [];
    let checked = 0;
    for (const example of examples) {
      const exampleRoot = join(examplesDir, example);
      for (const file of sourceFiles(exampleRoot)) {
        for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
          checked += 1;
          const why = privateImport(specifier, file, exampleRoot);
          if (why !== undefined) problems.push(`${relative(root, file)}: "${specifier}" is ${why}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
