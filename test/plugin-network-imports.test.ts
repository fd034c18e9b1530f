/**
 * Every protocol plugin reaches the network through the core (`ctx.net`):
 * the proxy, certificate checks and DNS settings apply only if no plugin
 * opens sockets or resolves names on its own. Type-only imports are fine
 * (a plugin may name `Socket`); a value import of node:net, node:tls or
 * node:dns, a require() or a dynamic import() of them is not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const FORBIDDEN = /^(node:)?(net|tls|dns|dns\/promises)$/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Module specifiers a file loads at run time (type-only imports left out). */
export function runtimeImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
    if (m[2] === undefined) found.push(m[4]!);
  }
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

const pluginDirs = [
  ...readdirSync(join(root, 'packages'))
    .filter((name) => name.startsWith('plugin-') && name !== 'plugin-testkit')
    .map((name) => join(root, 'packages', name, 'src')),
  join(root, 'examples', 'plugin-template', 'src'),
];

describe('protocol plugins open no sockets of their own', () => {
  it('the checker sees value imports, require and import(), and lets type-only imports pass', () => {
    expect(runtimeImports("import net from 'node:net';\nimport type { Socket } from 'node:net';\nimport { type X } from 'a';")).toEqual(['node:net', 'a']);
    expect(runtimeImports("const dns = require('dns');\nconst tls = await import('node:tls');\nexport { connect } from 'net';")).toEqual(['net', 'dns', 'node:tls']);
  });

  it.each(pluginDirs.map((dir) => [relative(root, dir), dir]))('%s imports neither node:net, node:tls nor node:dns', (_name, dir) => {
    const offenders = sources(dir).flatMap((file) =>
      runtimeImports(readFileSync(file, 'utf8'))
        .filter((specifier) => FORBIDDEN.test(specifier))
        .map((specifier) => `${relative(root, file)}: ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });
});
