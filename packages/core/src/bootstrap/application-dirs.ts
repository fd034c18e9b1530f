import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `node_modules` folders in `start` and above it. */
function nodeModulesAbove(start: string): string[] {
  const dirs: string[] = [];
  let dir = start;
  for (;;) {
    if (basename(dir) === 'node_modules') dirs.push(dir);
    else if (existsSync(join(dir, 'node_modules'))) dirs.push(join(dir, 'node_modules'));
    const parent = dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/**
 * The application's own node_modules: those above its main script and above
 * this core. Never the working directory's: running in a stranger's checkout
 * must not load its code.
 */
export function applicationNodeModules(): string[] {
  const dirs = nodeModulesAbove(fileURLToPath(new URL('..', import.meta.url)));
  const main = process.argv[1];
  if (main !== undefined && existsSync(main)) dirs.unshift(...nodeModulesAbove(dirname(realpathSync(main))));
  return [...new Set(dirs)];
}
