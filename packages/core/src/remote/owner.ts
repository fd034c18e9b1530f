import { readFileSync } from 'node:fs';
import type { Parley } from '../parley.js';
import { resolvePaths } from '../storage/paths.js';
import type { Logger } from '../util/logger.js';
import { connectToParley, type ConnectOptions, type RemoteParley } from './client.js';
import { RemoteError } from './errors.js';
import { OwnerLock } from './owner-lock.js';
import { REMOTE_PROTOCOL_VERSION } from './protocol.js';
import { prepareRunDirectory, runFiles, type RunFiles } from './run-directory.js';
import type { ParleyServer } from './server.js';
import type { UiRelay } from './ui-relay.js';

function coreVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export interface ServeOwnerOptions {
  /** What owns the home, shown by `parley daemon status`: "daemon", "watch", "interactive". */
  kind: string;
  relay?: UiRelay;
  onStopRequested?: () => void;
  log?: Logger;
}

/**
 * This process won the election for a home: no other process will sign its
 * accounts in until `release()`. `serve()` opens the socket other
 * invocations attach to; a short-lived command may hold the claim without
 * serving, so the next invocation waits for it instead of signing in beside it.
 */
export class OwnerClaim {
  private server: ParleyServer | undefined;

  constructor(
    readonly files: RunFiles,
    private readonly lock: OwnerLock,
  ) {}

  async serve(parley: Parley, options: ServeOwnerOptions): Promise<ParleyServer> {
    // Loaded here, not with the module: a client that only attaches never needs the server side.
    const { ParleyServer } = await import('./server.js');
    const server = new ParleyServer(parley, {
      files: this.files,
      info: { protocolVersion: REMOTE_PROTOCOL_VERSION, coreVersion: coreVersion(), pid: process.pid, startedAt: Date.now(), kind: options.kind },
      ...(options.relay === undefined ? {} : { relay: options.relay }),
      ...(options.onStopRequested === undefined ? {} : { onStopRequested: options.onStopRequested }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    await server.listen();
    this.server = server;
    return server;
  }

  /** Closes the socket (clients are told the owner is stopping) and gives the home up. */
  async release(reason = 'stopped'): Promise<void> {
    await this.server?.close(reason);
    this.server = undefined;
    this.lock.release();
  }
}

export type Election = { role: 'client'; client: RemoteParley } | { role: 'owner'; claim: OwnerClaim };

export interface ElectOptions extends ConnectOptions {
  /** How long to wait for another process that holds the home without serving it yet (default 2 minutes). */
  waitMs?: number;
}

/**
 * Attaches to the home's owner, or becomes it. While another process holds
 * the claim but its socket is not up yet (it is starting, or it is a
 * one-shot command), this waits for whichever comes first: its socket, or
 * the claim being given up.
 */
export async function elect(options: ElectOptions = {}): Promise<Election> {
  const files = runFiles(resolvePaths(options.env ?? process.env, options.home));
  prepareRunDirectory(files);
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      return { role: 'client', client: await connectToParley(options) };
    } catch (error) {
      if (!(error instanceof RemoteError) || error.code !== 'owner-not-running') throw error;
    }
    const lock = OwnerLock.tryAcquire(files.lock);
    if (lock !== undefined) return { role: 'owner', claim: new OwnerClaim(files, lock) };
    if (Date.now() > deadline) throw new RemoteError('owner-exists', 'Another Parley process holds this home and does not answer on its socket');
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
