/**
 * Every error class in every package carries a code from its package's
 * published list (the list docs/errors.md is generated from), and no class
 * is built on a bare Error: a UI can switch on `code` for anything Parley
 * or a bundled plugin raises.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CORE_ERROR_CODES, type ErrorCodeList } from '@parley/core';
import { IRC_ERROR_CODES } from '../packages/plugin-irc/src/index.js';
import { OCS_ERROR_CODES } from '../packages/plugin-ocs/src/index.js';
import { XMPP_ERROR_CODES } from '../packages/plugin-xmpp/src/index.js';
import { X_ERROR_CODES } from '../packages/plugin-twitter/src/index.js';
import { CLI_ERROR_CODES } from '../packages/ui-cli/src/cli/usage-error.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each package's code lists; a package without its own errors has none. */
const LISTS: Record<string, ErrorCodeList[]> = {
  core: [CORE_ERROR_CODES],
  'plugin-irc': [IRC_ERROR_CODES],
  'plugin-ocs': [OCS_ERROR_CODES],
  'plugin-xmpp': [XMPP_ERROR_CODES],
  'plugin-twitter': [X_ERROR_CODES],
  'ui-cli': [CLI_ERROR_CODES],
  'plugin-auto-reply': [],
  'plugin-testkit': [],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Error classes declared in a package's sources, by name, with the file that declares each. */
function errorClasses(files: string[], known: Set<string>): Map<string, string> {
  const declarations = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(\w+)/g)].map((m) => ({ name: m[1]!, base: m[2]!, file })));
  const found = new Map<string, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of declarations) {
      if (!found.has(d.name) && (known.has(d.base) || found.has(d.base))) {
        found.set(d.name, relative(root, d.file));
        grew = true;
      }
    }
  }
  return found;
}

const CORE_BASES = new Set(['ParleyError', 'ConnectionError', 'ConfigError', 'PluginError', 'HistoryError', 'SecretStoreError', 'MessageError', 'CommandError', 'ConversationError', 'RemoteError']);

describe('coded errors in every package', () => {
  const packages = readdirSync(join(root, 'packages')).filter((name) => statSync(join(root, 'packages', name, 'src')).isDirectory());

  it('knows every package', () => {
    expect(packages.sort()).toEqual(Object.keys(LISTS).sort());
  });

  it.each(packages)('%s: no error class but the base is built on a bare Error', (name) => {
    const bare = sources(join(root, 'packages', name, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bclass\s+(\w+)\s+extends\s+(Error|TypeError|RangeError|SyntaxError)\b/g)]
        .filter((m) => m[1] !== 'ParleyError')
        .map((m) => `${relative(root, file)}: ${m[1]}`),
    );
    expect(bare).toEqual([]);
  });

  it.each(packages)('%s: every error class has its codes in the package list, and every listed class exists', (name) => {
    const classes = errorClasses(sources(join(root, 'packages', name, 'src')), name === 'core' ? new Set(['ParleyError']) : CORE_BASES);
    if (name === 'core') classes.set('ParleyError', 'packages/core/src/errors/ParleyError.ts');
    const listed = new Map<string, string[]>();
    for (const list of LISTS[name]!) {
      for (const [code, info] of Object.entries(list)) {
        for (const cls of typeof info.class === 'string' ? [info.class] : info.class) listed.set(cls, [...(listed.get(cls) ?? []), code]);
        expect(typeof info.fatal, code).toBe('boolean');
        expect(info.when, code).toMatch(/\S/);
        expect(info.action, code).toMatch(/\S/);
      }
    }
    // The base class has no codes of its own; a deprecated alias is not a class.
    classes.delete('ParleyError');
    for (const [cls, file] of classes) expect(listed.get(cls), `${cls} (${file}) has no code in the ${name} list`).toBeDefined();
    for (const cls of listed.keys()) expect(classes.has(cls), `the ${name} list names ${cls}, which ${name} does not declare`).toBe(true);
  });

  it('codes are unique across packages, so a UI can switch on the code alone', () => {
    const owner = new Map<string, string>();
    for (const [name, lists] of Object.entries(LISTS)) {
      for (const list of lists) {
        for (const code of Object.keys(list)) {
          expect(owner.get(code), `${code} is listed by ${owner.get(code)} and ${name}`).toBeUndefined();
          owner.set(code, name);
        }
      }
    }
  });
});
