import { describe, expect, it, vi } from 'vitest';
import { newId, newMessageId } from './ids.js';

describe('newId', () => {
  it('gives distinct random (version 4) UUIDs in their usual text form', () => {
    const ids = Array.from({ length: 1000 }, () => newId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

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
