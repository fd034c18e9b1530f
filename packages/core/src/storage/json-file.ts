import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync, copyFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/ParleyError.js';

/**
 * Reads a JSON document; a missing file gives `fallback`. A file that is not
 * valid JSON is an error, and is never overwritten: it is copied aside first
 * so the user's data survives whatever happens next.
 */
export function readJsonFile<T>(path: string, fallback: T, validate: (value: unknown) => T): T {
  if (!existsSync(path)) return fallback;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('invalid-config', `Cannot read ${path}`, undefined, { cause });
  }
  try {
    return validate(JSON.parse(text));
  } catch (cause) {
    const aside = `${path}.broken-${Date.now()}`;
    try {
      copyFileSync(path, aside);
    } catch {
      // Keeping the original in place is what matters.
    }
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ConfigError('invalid-config', `${path} is not valid (${why}); a copy was kept at ${aside}`, undefined, { cause });
  }
}

/** Writes atomically (temp file, fsync, rename): a crash leaves the old or the new file, never half of one. */
export function writeJsonFile(path: string, value: unknown, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  const fd = openSync(temp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
