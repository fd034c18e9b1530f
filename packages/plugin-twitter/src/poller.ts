/**
 * Runs each feed on its own interval. A spent rate limit holds only that
 * feed until the window resets (and says so where the feed shows); a 403
 * stops only that feed; 401, network and certificate failures end the
 * connection, which the core reconnects or reports.
 */
import { certificateError, ConnectionError } from '@parley/core';
import { ENDPOINT_LABELS, type EndpointName } from './api.js';
import { classify } from './errors.js';
import type { RateLimits } from './rate-limit.js';
import { waitUntilReset } from './rate-limit.js';

export interface PollTask {
  name: string;
  endpoint: EndpointName;
  intervalMs: number;
  run(): Promise<void>;
  /** A line where this feed shows (its chat, or the account's status window). */
  say(text: string, error?: boolean): void;
}

export interface PollerHooks {
  /** The connection cannot go on. */
  fatal(error: ConnectionError): void;
  log: { debug(message: string, data?: Record<string, unknown>): void; warn(message: string, data?: Record<string, unknown>): void };
  host: string;
}

interface TaskState {
  task: PollTask;
  timer: NodeJS.Timeout | undefined;
  failures: number;
  waitingForReset: boolean;
  stopped: boolean;
}

function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

export class Poller {
  private readonly tasks = new Map<string, TaskState>();
  private stopped = false;

  constructor(
    private readonly hooks: PollerHooks,
    private readonly rateLimits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  add(task: PollTask): void {
    if (this.stopped) return;
    this.remove(task.name);
    const state: TaskState = { task, timer: undefined, failures: 0, waitingForReset: false, stopped: false };
    this.tasks.set(task.name, state);
    this.schedule(state, 0);
  }

  remove(name: string): void {
    const state = this.tasks.get(name);
    if (state === undefined) return;
    state.stopped = true;
    clearTimeout(state.timer);
    this.tasks.delete(name);
  }

  has(name: string): boolean {
    return this.tasks.has(name);
  }

  /** Polls a feed now (after posting, say), keeping its schedule otherwise. */
  poke(name: string): void {
    const state = this.tasks.get(name);
    if (state === undefined || state.waitingForReset) return;
    clearTimeout(state.timer);
    this.schedule(state, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const name of [...this.tasks.keys()]) this.remove(name);
  }

  private schedule(state: TaskState, delay: number): void {
    if (state.stopped || this.stopped) return;
    state.timer = setTimeout(() => void this.tick(state), delay);
  }

  private running = new Set<TaskState>();

  private async tick(state: TaskState): Promise<void> {
    if (state.stopped || this.running.has(state)) return;
    this.running.add(state);
    const { task } = state;
    let delay = task.intervalMs;
    try {
      await task.run();
      if (state.stopped) return;
      if (state.waitingForReset) task.say(`Reading ${ENDPOINT_LABELS[task.endpoint]} again.`);
      state.failures = 0;
      state.waitingForReset = false;
      delay = Math.max(task.intervalMs, this.rateLimits.delayFor(task.endpoint));
    } catch (err) {
      if (state.stopped) return;
      const failure = classify(err, task.endpoint);
      const label = ENDPOINT_LABELS[task.endpoint];
      this.hooks.log.debug(`${task.name} failed`, { kind: failure.kind, message: failure.message });
      switch (failure.kind) {
        case 'rate-limited': {
          delay = waitUntilReset(failure.details.resetAt, this.now(), task.intervalMs);
          task.say(`Rate limit reached for ${label} (${task.endpoint}); waiting until ${clock(this.now() + delay)} before reading it again.`);
          state.waitingForReset = true;
          break;
        }
        case 'forbidden': {
          const server = failure.details.serverText === undefined ? '' : ` The server said: ${failure.details.serverText}`;
          task.say(`Your X API access level does not include ${label} (${task.endpoint}), so it is not shown; everything else keeps working.${server}`, true);
          this.remove(task.name);
          return;
        }
        case 'unauthorized':
          this.stop();
          this.hooks.fatal(
            ConnectionError.authenticationFailed('The X API no longer accepts this account’s access token', {
              serverText: failure.details.serverText,
              protocolDetail: 401,
              hint: 'Authorize the app again and enter the new tokens',
            }),
          );
          return;
        case 'certificate':
          this.stop();
          this.hooks.fatal(certificateError(failure.details.errorCode ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', this.hooks.host));
          return;
        case 'network':
          this.stop();
          this.hooks.fatal(ConnectionError.network(`Lost the connection to the X API: ${failure.message}`, { protocolDetail: failure.details.errorCode, cause: failure }));
          return;
        default: {
          state.failures += 1;
          // Say it once per run of failures, not on every retry.
          if (state.failures === 1) task.say(`Could not read ${label}: ${failure.message}. Trying again.`, true);
          this.hooks.log.warn(`${task.name}: ${failure.message}`);
          delay = task.intervalMs * Math.min(2 ** (state.failures - 1), 16);
        }
      }
    } finally {
      this.running.delete(state);
    }
    this.schedule(state, delay);
  }
}
