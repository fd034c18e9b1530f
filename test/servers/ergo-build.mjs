// Where the tests' ergo (the IRCv3 reference server, built from the source
// vendored in ./ergo) lives, and building it there when it is missing. Plain
// JavaScript so that the test setup (install-servers.mjs) and the launcher
// (ergo.ts) share it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ERGO_VERSION = '2.11.1';
const BUILD_SCRIPT = fileURLToPath(new URL('./ergo/build.sh', import.meta.url));

/** The folder holding `ergo` and its `default.yaml`: PARLEY_TEST_CACHE, else ~/.cache/parley-test. */
export function ergoDir() {
  const cache = process.env.PARLEY_TEST_CACHE || join(homedir(), '.cache', 'parley-test');
  return join(cache, `ergo-${ERGO_VERSION}`);
}

/**
 * Builds ergo into ergoDir() unless it is there already (a file lock keeps
 * concurrent builds apart); about 40 s the first time, instant afterwards.
 * Returns the folder.
 */
export function ensureErgo({ quiet = true } = {}) {
  const dir = ergoDir();
  if (existsSync(join(dir, 'ergo')) && existsSync(join(dir, 'default.yaml'))) return dir;
  if (!quiet) console.log(`test setup: building ergo ${ERGO_VERSION} into ${dir}`);
  execFileSync('bash', [BUILD_SCRIPT, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}
