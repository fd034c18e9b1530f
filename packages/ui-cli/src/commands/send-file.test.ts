import { describe, expect, it } from 'vitest';
import type { TransferInfo } from '@parley/core';
import { finalLine, progressLine } from './send-file.js';

const base: TransferInfo = { id: 't1', accountId: 'a1', peer: 'bob', direction: 'outgoing', name: 'movie.mkv', size: 100 * 1024 * 1024, state: 'done', bytes: 100 * 1024 * 1024, startedAt: 0, endedAt: 20_000 };

describe('send-file output', () => {
  it('draws a bar with percent, amount, rate and time left that fits the terminal', () => {
    const line = progressLine({ bytes: 25 * 1024 * 1024, size: 100 * 1024 * 1024, rate: 5 * 1024 * 1024, eta: 15 }, 100);
    expect(line).toBe(`[${'#'.repeat(10)}${'-'.repeat(30)}]  25% 25 MiB of 100 MiB  5 MiB/s  15 s left`);
    expect(progressLine({ bytes: 25 * 1024 * 1024, size: 100 * 1024 * 1024, rate: 5 * 1024 * 1024, eta: 15 }, 60).length).toBeLessThanOrEqual(60);
    expect(progressLine({ bytes: 2048, rate: 1024 }, 80)).toBe('2 KiB  1 KiB/s');
  });

  it('ends with the size, the time and the rate, or why it was not sent', () => {
    expect(finalLine(base)).toBe('Sent movie.mkv to bob: 100 MiB in 20 s, 5 MiB/s');
    expect(finalLine({ ...base, state: 'cancelled', cancelledBy: 'peer', reason: 'declined' })).toBe('Not sent: bob declined movie.mkv');
    expect(finalLine({ ...base, state: 'failed', bytes: 1024, error: { name: 'TransferError', code: 'transfer-incomplete', message: 'The peer closed the connection' } })).toBe('Not sent: movie.mkv to bob failed after 1 KiB: The peer closed the connection');
  });
});
