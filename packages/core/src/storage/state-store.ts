import { join } from 'node:path';
import { CoalescedJsonFile, readJsonFile } from './json-file.js';

type StateMap = Record<string, Record<string, unknown>>;

/**
 * Small per-account state that plugins and the core keep between runs (last
 * seen ids, trusted certificate fingerprints, the last status). Writes are
 * coalesced (many updates in a moment cost one file write) and run off the
 * event loop: the state may hold a roster of thousands, and an fsync can take
 * long on a busy disk, which would stall every account's work meanwhile.
 */
export class StateStore {
  private readonly file: CoalescedJsonFile;
  // Replaced, never changed in place: a write serializes the state as it was when it started.
  private state: StateMap;
  private dirty = false;

  /** `onSaveError`: a background write failed (the state stays in memory and is written again on the next change). */
  constructor(dataDir: string, onSaveError: (error: unknown) => void = () => {}) {
    const path = join(dataDir, 'state.json');
    this.file = new CoalescedJsonFile(path, () => this.state, onSaveError, 20);
    this.state = readJsonFile<StateMap>(path, {}, (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected an object');
      return value as StateMap;
    });
  }

  get<T>(scope: string, key: string): T | undefined {
    return this.state[scope]?.[key] as T | undefined;
  }

  /** Every key of `scope` that starts with `prefix`, with the prefix removed. */
  entries(scope: string, prefix: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.state[scope] ?? {})) if (key.startsWith(prefix)) out[key.slice(prefix.length)] = value;
    return out;
  }

  set(scope: string, key: string, value: unknown): void {
    // A value that cannot round-trip through JSON would be lost silently at the next start. A string
    // always does, and cannot be changed by whoever gave it: it is kept as it is (a plugin's kept
    // roster is one JSON text of hundreds of kilobytes, which the round trip would copy twice).
    const copy: unknown = value === undefined || typeof value === 'string' ? value : JSON.parse(JSON.stringify(value));
    this.state = { ...this.state, [scope]: { ...this.state[scope], [key]: copy } };
    this.schedule();
  }

  /** As `set`, with the value as JSON text (undefined: none), as a plugin's worker sends it: parsed, it is already a copy. */
  setJson(scope: string, key: string, json: string | undefined): void {
    const value: unknown = json === undefined ? undefined : JSON.parse(json);
    this.state = { ...this.state, [scope]: { ...this.state[scope], [key]: value } };
    this.schedule();
  }

  deleteScope(scope: string): void {
    const { [scope]: _gone, ...rest } = this.state;
    this.state = rest;
    this.schedule();
  }

  private schedule(): void {
    this.dirty = true;
    this.file.schedule();
  }

  /** Writes now (at shutdown) if anything changed, after the background write in flight. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.file.flush();
  }
}
