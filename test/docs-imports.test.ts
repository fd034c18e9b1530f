import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The guides and READMEs are what people copy from: every name their code
// imports from a Parley package must be one that package exports. The list of
// exports is test/public-exports.json, which public-exports.test.ts keeps equal
// to the built declarations.
const root = fileURLToPath(new URL('..', import.meta.url));
const exportsFile = join(root, 'test/public-exports.json');
const CODE_LANGS = new Set(['ts', 'tsx', 'typescript', 'js', 'mjs', 'javascript', 'jsx']);

/** The code of every fenced block in a TypeScript or JavaScript language. */
export function codeBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  for (const match of markdown.matchAll(/^(`{3,}|~{3,})[ \t]*([\w-]*)[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm)) {
    if (CODE_LANGS.has(match[2]!.toLowerCase())) blocks.push(match[3]!);
  }
  return blocks;
}

/** Named imports from `@parley/…` specifiers: `{ a, type B, c as d }` gives a, B, c. */
export function parleyImports(code: string): Array<{ specifier: string; name: string }> {
  const found: Array<{ specifier: string; name: string }> = [];
  for (const match of code.matchAll(/\bimport\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*['"](@parley\/[^'"]+)['"]/g)) {
    for (const part of match[1]!.split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!.trim();
      if (name !== '') found.push({ specifier: match[2]!, name });
    }
  }
  return found;
}

/** Problems with the imports in one markdown text, given each entry point's exported names. */
export function importProblems(markdown: string, exported: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const problems: string[] = [];
  for (const block of codeBlocks(markdown)) {
    for (const { specifier, name } of parleyImports(block)) {
      const names = exported.get(specifier);
      if (names === undefined) problems.push(`imports from ${specifier}, which is not a public entry point`);
      else if (!names.has(name)) problems.push(`imports ${name} from ${specifier}, which does not export it`);
    }
  }
  return problems;
}

function publicNames(): Map<string, Set<string>> {
  const listed = JSON.parse(readFileSync(exportsFile, 'utf8')) as Record<string, string[]>;
  // Entries read "Name (kind)".
  return new Map(Object.entries(listed).map(([specifier, entries]) => [specifier, new Set(entries.map((e) => e.replace(/\s+\(.*\)$/, '')))]));
}

function markdownFiles(): string[] {
  const files = [join(root, 'README.md')];
  for (const dir of ['docs', 'packages', 'examples']) {
    const base = join(root, dir);
    if (dir === 'docs') {
      for (const name of readdirSync(base)) if (name.endsWith('.md')) files.push(join(base, name));
      continue;
    }
    for (const name of readdirSync(base)) {
      const readme = join(base, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files;
}

describe('code in the docs and READMEs', () => {
  it('imports only names the Parley packages export', () => {
    const exported = publicNames();
    const problems: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      checked += codeBlocks(text).reduce((n, block) => n + parleyImports(block).length, 0);
      for (const problem of importProblems(text, exported)) problems.push(`${relative(root, file)}: ${problem}`);
    }
    expect(problems).toEqual([]);
    // The guides do import from the packages: a reader that found nothing would pass by accident.
    expect(checked).toBeGreaterThan(20);
  });

  it('reports a name a package does not export, and an entry point that does not exist', () => {
    const exported = new Map([['@parley/core', new Set(['createParley', 'Parley'])]]);
    const markdown = [
      '```ts',
      "import { createParley, type Parley, makeParley as make } from '@parley/core';",
      "import { thing } from '@parley/core/internal';",
      '```',
      '```sh',
      "import { ignored } from '@parley/core'",
      '```',
    ].join('\n');
    expect(importProblems(markdown, exported)).toEqual([
      'imports makeParley from @parley/core, which does not export it',
      'imports from @parley/core/internal, which is not a public entry point',
    ]);
  });
});
