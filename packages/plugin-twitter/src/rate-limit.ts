/**
 * Rate-limit windows as the X API reports them on every response:
 * `x-rate-limit-limit`, `x-rate-limit-remaining`, and `x-rate-limit-reset`
 * (epoch seconds). https://docs.x.com/x-api/fundamentals/rate-limits
 */
export interface RateWindow {
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets. */
  resetAt: number;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): number | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d{1,12}$/.test(value.trim())) return undefined;
  return Number(value);
}

export function readRateWindow(headers: Headers | undefined): RateWindow | undefined {
  if (headers === undefined) return undefined;
  const limit = header(headers, 'x-rate-limit-limit');
  const remaining = header(headers, 'x-rate-limit-remaining');
  const reset = header(headers, 'x-rate-limit-reset');
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  return { limit, remaining, resetAt: reset * 1000 };
}

export class RateLimits {
  private readonly windows = new Map<string, RateWindow>();

  constructor(private readonly now: () => number = Date.now) {}

  update(endpoint: string, window: RateWindow | undefined): void {
    if (window !== undefined) this.windows.set(endpoint, window);
  }

  get(endpoint: string): RateWindow | undefined {
    return this.windows.get(endpoint);
  }

  /**
   * How long to hold the next request to `endpoint`: zero while the window
   * has requests left; otherwise until it resets. `maxWaitMs` bounds a reset
   * time that is absurdly far away (a wrong server clock).
   */
  delayFor(endpoint: string, maxWaitMs = 16 * 60_000): number {
    const w = this.windows.get(endpoint);
    if (w === undefined || w.remaining > 0) return 0;
    return Math.min(Math.max(0, w.resetAt - this.now()), maxWaitMs);
  }
}

/** A wait until `resetAt`, bounded, for a 429 answer; a moment past the reset avoids a second 429. */
export function waitUntilReset(resetAt: number | undefined, now: number, fallbackMs: number, maxWaitMs = 16 * 60_000): number {
  if (resetAt === undefined || !Number.isFinite(resetAt)) return fallbackMs;
  return Math.min(Math.max(0, resetAt - now) + 250, maxWaitMs);
}
