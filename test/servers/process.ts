// The TypeScript launchers' entry to the shared process helpers (daemon.mjs,
// plain JavaScript so that prosody.mjs and the benchmarks use them too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Daemon } from './daemon.mjs';
export { accepts, daemon, freePort, freePorts, listenerBelongsTo, PortTakenError, sleep, spawnDaemon, withFreePorts } from './daemon.mjs';
export type { Daemon, DaemonSpec } from './daemon.mjs';


/**
 * Runs `launch` with a fresh folder under the system's temporary directory
 * (named `prefix…`), removed again if the launch fails.
 */
export async function inTempDir<T>(prefix: string, launch: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return await launch(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * What every launched server that can be stopped and started again offers,
 * beside its own fields: where clients reach it, its folder, and the
 * controls `daemonControls` builds.
 */
export interface RestartableServer {
  readonly host: '127.0.0.1';
  /** Plain client port. */
  readonly port: number;
  /** Its own temporary folder: configuration, data and logs. */
  readonly dir: string;
  /** Everything the server wrote, for failing tests' messages. */
  output(): string;
  /** Stops the server (clients see their connection drop). */
  stop(): Promise<void>;
  /** Starts it again on the same ports after `stop()`. */
  start(): Promise<void>;
  /** `stop()`, then `start()`. */
  restart(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/** What a launcher's server object offers of its daemon; `close` stops it, runs `cleanUp`, and removes `dir`. */
export function daemonControls(server: Daemon, dir: string, cleanUp?: () => void) {
  return {
    output: server.output,
    stop: server.stop,
    start: server.start,
    restart: server.restart,
    close: async (): Promise<void> => {
      await server.stop();
      cleanUp?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
