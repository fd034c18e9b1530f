import type { ConnectionError } from '../errors/ConnectionError.js';

/** How the core retries an account's connection (`createParley({ reconnect })` overrides some). */
export interface ReconnectOptions {
  /**
   * Delay before the first attempt after an online connection dropped (never
   * more than `initialDelayMs`): a server restart or a network change is
   * usually over within a second or two.
   */
  afterDropDelayMs: number;
  /** Delay before the first retry of a failed attempt; doubled (`factor`) for each further one. */
  initialDelayMs: number;
  /** The longest wait between two attempts, however many have failed (default 5 minutes). */
  maxDelayMs: number;
  /** How much each wait grows over the previous one (default 2: doubled). */
  factor: number;
  /** Fraction of the delay added or removed at random, so many clients do not return at once. */
  jitter: number;
  /** Give up after this many failed attempts in a row (Infinity: never). */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT: ReconnectOptions = {
  afterDropDelayMs: 500,
  initialDelayMs: 500,
  maxDelayMs: 5 * 60_000,
  factor: 2,
  jitter: 0.2,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * A quick first attempt after a drop, then exponential backoff, all with
 * jitter, on non-fatal errors; a fatal error (wrong password, rejected
 * client) never retries: going online again needs the user.
 */
export class ReconnectPolicy {
  constructor(
    private readonly options: ReconnectOptions = DEFAULT_RECONNECT,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Milliseconds to wait before the next attempt, or undefined for no retry.
   * `failed` counts the attempts that failed in a row; 0 means an online
   * connection just dropped.
   */
  delay(error: ConnectionError, failed: number): number | undefined {
    if (error.fatal || failed > this.options.maxAttempts) return undefined;
    const base =
      failed === 0
        ? Math.min(this.options.afterDropDelayMs, this.options.initialDelayMs)
        : Math.min(this.options.initialDelayMs * this.options.factor ** (failed - 1), this.options.maxDelayMs);
    const spread = base * this.options.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }
}
