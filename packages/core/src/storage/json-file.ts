import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync, existsSync, copyFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
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

function serialize(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes atomically (temp file, fsync, rename): a crash leaves the old or the new file, never half of one. */
export function writeJsonFile(path: string, value: unknown, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, serialize(value), { mode });
  const fd = openSync(temp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/**
 * A JSON file rewritten after changes, in the background: changes within
 * `delayMs` cost one write, and the write, its fsync and the rename run off
 * the event loop (an fsync can take long on a slow disk, and the file may be
 * large: a buddy list of thousands). Writes run one at a time, each atomic
 * like writeJsonFile. `flush()` (at shutdown) writes the latest state once
 * the write in flight, if any, has finished.
 */
export class CoalescedJsonFile {
  private timer: NodeJS.Timeout | undefined;
  private writes = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly snapshot: () => unknown,
    private readonly onError: (error: unknown) => void,
    private readonly delayMs = 50,
    private readonly mode = 0o600,
  ) {}

  /** A change happened: write within `delayMs`. */
  schedule(): void {
    this.timer ??= setTimeout(() => this.writeInBackground(), this.delayMs);
  }

  /** Writes the latest state now, after the background write in flight (which would otherwise land over it). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.queue;
    writeJsonFile(this.path, this.snapshot(), this.mode);
  }

  private writeInBackground(): void {
    this.timer = undefined;
    // The state as it is now, serialized before anything can change it.
    const text = serialize(this.snapshot());
    const temp = `${this.path}.${process.pid}.${++this.writes}.tmp`;
    this.queue = this.queue.then(() => this.write(text, temp)).catch(this.onError);
  }

  private async write(text: string, temp: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const file = await open(temp, 'w', this.mode);
    try {
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
