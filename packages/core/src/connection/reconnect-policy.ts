import type { ConnectionError } from '../errors/ConnectionError.js';

export interface ReconnectOptions {
  /** Delay before the first retry. */
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** Fraction of the delay added or removed at random, so many clients do not return at once. */
  jitter: number;
  /** Give up after this many failed attempts in a row (Infinity: never). */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  initialDelayMs: 2_000,
  maxDelayMs: 5 * 60_000,
  factor: 2,
  jitter: 0.2,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * Exponential backoff with jitter on non-fatal errors; a fatal error (wrong
 * password, rejected client) never retries: going online again needs the user.
 */
export class ReconnectPolicy {
  constructor(
    private readonly options: ReconnectOptions = DEFAULT_RECONNECT,
    private readonly random: () => number = Math.random,
  ) {}

  /** Milliseconds to wait before attempt `attempt` (1-based), or undefined for no retry. */
  delay(error: ConnectionError, attempt: number): number | undefined {
    if (error.fatal || attempt > this.options.maxAttempts) return undefined;
    const base = Math.min(this.options.initialDelayMs * this.options.factor ** (attempt - 1), this.options.maxDelayMs);
    const spread = base * this.options.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }
}
