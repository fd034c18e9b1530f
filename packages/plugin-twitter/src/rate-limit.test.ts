import { describe, expect, it } from 'vitest';
import { RateLimits, readRateWindow, waitUntilReset } from './rate-limit.js';

describe('rate limits', () => {
  it('reads the x-rate-limit-* headers (reset in epoch seconds)', () => {
    expect(readRateWindow({ 'x-rate-limit-limit': '180', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1700000000' })).toEqual({ limit: 180, remaining: 0, resetAt: 1_700_000_000_000 });
    expect(readRateWindow({ 'x-rate-limit-limit': '180' })).toBeUndefined();
    expect(readRateWindow({ 'x-rate-limit-limit': 'lots', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1' })).toBeUndefined();
  });

  it('holds an endpoint only while its window is spent, and bounds absurd resets', () => {
    let now = 1_000_000;
    const limits = new RateLimits(() => now);
    limits.update('GET /a', { limit: 5, remaining: 1, resetAt: now + 60_000 });
    expect(limits.delayFor('GET /a')).toBe(0);
    limits.update('GET /a', { limit: 5, remaining: 0, resetAt: now + 60_000 });
    expect(limits.delayFor('GET /a')).toBe(60_000);
    expect(limits.delayFor('GET /b')).toBe(0);
    now += 70_000;
    expect(limits.delayFor('GET /a')).toBe(0);
    limits.update('GET /a', { limit: 5, remaining: 0, resetAt: now + 10 * 86_400_000 });
    expect(limits.delayFor('GET /a')).toBe(16 * 60_000);
  });

  it('waits past the reset after a 429, or the interval when no reset was given', () => {
    expect(waitUntilReset(10_000, 4_000, 500)).toBe(6_250);
    expect(waitUntilReset(undefined, 4_000, 500)).toBe(500);
    expect(waitUntilReset(1_000, 4_000, 500)).toBe(250);
  });
});
