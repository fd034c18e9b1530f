import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../errors/ConnectionError.js';
import { ReconnectPolicy } from './reconnect-policy.js';

const options = { afterDropDelayMs: 300, initialDelayMs: 1000, maxDelayMs: 8000, factor: 2, jitter: 0.2, maxAttempts: 10 };

describe('ReconnectPolicy', () => {
  it('backs off exponentially up to the maximum', () => {
    const policy = new ReconnectPolicy(options, () => 0.5); // no jitter at the midpoint
    const network = ConnectionError.network('lost');
    expect([1, 2, 3, 4, 5, 6].map((n) => policy.delay(network, n))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('retries soon after an online connection dropped, never later than the first backoff', () => {
    const network = ConnectionError.network('lost');
    expect(new ReconnectPolicy(options, () => 0.5).delay(network, 0)).toBe(300);
    expect(new ReconnectPolicy({ ...options, initialDelayMs: 100 }, () => 0.5).delay(network, 0)).toBe(100);
    expect(new ReconnectPolicy(options, () => 0.5).delay(ConnectionError.authenticationFailed(), 0)).toBeUndefined();
  });

  it('spreads each delay by the jitter fraction', () => {
    const network = ConnectionError.network('lost');
    expect(new ReconnectPolicy(options, () => 0).delay(network, 1)).toBe(800);
    expect(new ReconnectPolicy(options, () => 0.999999).delay(network, 1)).toBe(1200);
  });

  it('never retries a fatal error', () => {
    const policy = new ReconnectPolicy(options, () => 0.5);
    expect(policy.delay(ConnectionError.authenticationFailed(), 1)).toBeUndefined();
    expect(policy.delay(ConnectionError.clientRejected('old client'), 1)).toBeUndefined();
    expect(policy.delay(ConnectionError.network('down', { fatal: true }), 1)).toBeUndefined();
  });

  it('gives up after the maximum number of attempts', () => {
    const policy = new ReconnectPolicy({ ...options, maxAttempts: 2 }, () => 0.5);
    const network = ConnectionError.network('lost');
    expect(policy.delay(network, 2)).toBe(2000);
    expect(policy.delay(network, 3)).toBeUndefined();
  });
});
