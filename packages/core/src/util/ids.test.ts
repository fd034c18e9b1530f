import { describe, expect, it, vi } from 'vitest';
import { newMessageId } from './ids.js';

describe('newMessageId', () => {
  it('never repeats, and is much shorter than a UUID', () => {
    const ids = Array.from({ length: 100_000 }, () => newMessageId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [ids[0]!, ids.at(-1)!]) expect(id).toMatch(/^[A-Za-z0-9_-]{17,24}$/);
  });

  it('starts with a random part of its own in each process, so the ids of different runs differ', async () => {
    vi.resetModules();
    const again = (await import('./ids.js')).newMessageId;
    const [a, b] = [newMessageId(), again()];
    expect(a.slice(0, 16)).not.toBe(b.slice(0, 16));
  });
});
