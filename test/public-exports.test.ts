/**
 * The public surface of every package, types included, read from the
 * declarations each entry point publishes (`exports` in its package.json).
 * A change to it shows in review as a change to public-exports.json: adding
 * or removing an export is a decision, not an accident. After a deliberate
 * change, run `UPDATE_PUBLIC_EXPORTS=1 npx vitest run test/public-exports.test.ts`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const expectedFile = join(root, 'test/public-exports.json');

interface Entry {
  /** "@parley/core", "@parley/core/remote". */
  specifier: string;
  declarations: string;
}

/** Every entry point of every workspace package, from the `types` of its `exports` (or `types`). */
function entries(): Entry[] {
  const found: Entry[] = [];
  for (const dir of readdirSync(join(root, 'packages'))) {
    const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string; types?: string; exports?: Record<string, { types?: string } | string> };
    if (pkg.exports !== undefined) {
      for (const [subpath, target] of Object.entries(pkg.exports)) {
        const types = typeof target === 'object' ? target.types : undefined;
        if (types !== undefined) found.push({ specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`, declarations: join(root, 'packages', dir, types) });
      }
    } else if (pkg.types !== undefined) {
      found.push({ specifier: pkg.name, declarations: join(root, 'packages', dir, pkg.types) });
    }
  }
  return found.sort((a, b) => a.specifier.localeCompare(b.specifier));
}

/** Exported names, each tagged with what it is: "createParley (function)", "Message (type)". */
function surface(list: Entry[]): Record<string, string[]> {
  const program = ts.createProgram(list.map((e) => e.declarations), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const out: Record<string, string[]> = {};
  for (const entry of list) {
    const file = program.getSourceFile(entry.declarations);
    if (file === undefined) throw new Error(`${entry.declarations} is missing: build first (npm run compile)`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (moduleSymbol === undefined) throw new Error(`${entry.declarations} is not a module`);
    out[entry.specifier] = checker
      .getExportsOfModule(moduleSymbol)
      .map((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const f = target.flags;
        const kind =
          f & ts.SymbolFlags.Class ? 'class'
          : f & ts.SymbolFlags.Function ? 'function'
          : f & (ts.SymbolFlags.Variable | ts.SymbolFlags.Property) ? 'value'
          : f & ts.SymbolFlags.Enum ? 'enum'
          : 'type';
        const declaration = symbol.declarations?.[0];
        const typeOnly = declaration !== undefined && ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly);
        return `${symbol.getName()} (${kind}${typeOnly && kind !== 'type' ? ', type only' : ''})`;
      })
      .sort();
  }
  return out;
}

describe('public exports', () => {
  it('each package exports exactly the listed names', () => {
    const actual = surface(entries());
    if (process.env.UPDATE_PUBLIC_EXPORTS === '1') writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, string[]>;
    const changes: string[] = [];
    for (const specifier of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const was = new Set(expected[specifier] ?? []);
      const now = new Set(actual[specifier] ?? []);
      for (const name of now) if (!was.has(name)) changes.push(`${specifier}: + ${name}`);
      for (const name of was) if (!now.has(name)) changes.push(`${specifier}: - ${name}`);
    }
    expect(changes, 'the public exports changed; if that is deliberate, run UPDATE_PUBLIC_EXPORTS=1 npx vitest run test/public-exports.test.ts and commit test/public-exports.json').toEqual([]);
  });
});
