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

/** How `OwnerClaim.serve` runs the owner's socket. */
export interface ServeOwnerOptions {
  /** What owns the home, shown by `parley daemon status`: "daemon", "watch", "interactive". */
  kind: string;
  /**
   * The core's UI when it was created with this relay: attached clients then
   * answer its questions and see its notices; without one, no client is asked.
   */
  relay?: UiRelay;
  /** Called when a client asks the owner to stop (`parley daemon stop`): release the claim and exit. */
  onStopRequested?: () => void;
  /** Where the server logs clients attaching, leaving and misbehaving. */
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

  /** @internal Made by `elect()` for the process that won. */
  constructor(
    /** The home's run folder, socket and lock file. */
    readonly files: RunFiles,
    private readonly lock: OwnerLock,
  ) {}

  /**
   * Opens the home's socket so other invocations attach to this core instead
   * of signing its accounts in again; resolves once it listens. Call it once
   * the core is started.
   */
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

/**
 * What `elect()` decided: attach to the running owner as a client, or own
 * the home (start the core, then `claim.serve` it).
 */
export type Election =
  | {
      /** Another process owns the home. */
      role: 'client';
      /** Connected to it. */
      client: RemoteParley;
    }
  | {
      /** This process owns the home now. */
      role: 'owner';
      /** Held until `claim.release()`; serve the core through it. */
      claim: OwnerClaim;
    };

/** Which home `elect()` decides for, and how long it waits for a process that is still starting. */
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
