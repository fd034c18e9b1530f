import { describe, expect, it } from 'vitest';
import { BatchTracker } from './batch.js';

const NONE = {};

describe('IRCv3 batch tracking', () => {
  it('opens, nests and closes batches; a line finds its batch, its label through the parents, and an enclosing type', () => {
    const t = new BatchTracker();
    expect(t.onBatchLine(['+outer', 'labeled-response'], { label: 'p1' })).toMatchObject({ kind: 'start', batch: { id: 'outer', type: 'labeled-response', label: 'p1', depth: 1 } });
    expect(t.onBatchLine(['+inner', 'CHATHISTORY', '#chan'], { batch: 'outer' })).toMatchObject({ kind: 'start', batch: { type: 'chathistory', params: ['#chan'], depth: 2 } });
    expect(t.labelOf({ batch: 'inner' })).toBe('p1');
    expect(t.labelOf({ batch: 'inner', label: 'own' })).toBe('own');
    expect(t.enclosing({ batch: 'inner' }, 'chathistory')?.id).toBe('inner');
    expect(t.enclosing({ batch: 'inner' }, 'labeled-response')?.id).toBe('outer');
    expect(t.onBatchLine(['-inner'], NONE)).toMatchObject({ kind: 'end', batch: { id: 'inner' } });
    expect(t.of({ batch: 'inner' })).toBeUndefined();
    expect(t.onBatchLine(['-outer'], NONE)?.kind).toBe('end');
    expect(t.size).toBe(0);
  });

  it('ignores malformed BATCH lines and references', () => {
    const t = new BatchTracker();
    for (const params of [[], [''], ['+'], ['x'], ['*abc', 'netsplit'], ['+abc'], ['+abc', ''], ['+a b', 'netsplit'], ['+abc', 'type with space'], ['+' + 'x'.repeat(65), 'netsplit'], ['-unknown'], ['-']]) {
      expect(t.onBatchLine(params, NONE)).toBeUndefined();
    }
    expect(t.size).toBe(0);
    expect(t.of({ batch: '__proto__' })).toBeUndefined();
    expect(t.labelOf({ batch: 'constructor' })).toBeUndefined();
    expect(t.labelOf({ label: '' })).toBeUndefined();
  });

  it('keeps the first meaning of an id opened twice', () => {
    const t = new BatchTracker();
    t.onBatchLine(['+a', 'netsplit'], NONE);
    expect(t.onBatchLine(['+a', 'chathistory', '#x'], NONE)).toBeUndefined();
    expect(t.of({ batch: 'a' })?.type).toBe('netsplit');
  });

  it('bounds how many batches stay open and how deep they nest; a parent that ends takes its unclosed children with it', () => {
    const t = new BatchTracker(3, 2);
    expect(t.onBatchLine(['+a', 'x'], NONE)).toBeDefined();
    expect(t.onBatchLine(['+b', 'x'], { batch: 'a' })).toBeDefined();
    expect(t.onBatchLine(['+c', 'x'], { batch: 'b' })).toBeUndefined(); // too deep
    expect(t.onBatchLine(['+d', 'x'], NONE)).toBeDefined();
    expect(t.onBatchLine(['+e', 'x'], NONE)).toBeUndefined(); // too many
    t.onBatchLine(['-a'], NONE);
    expect(t.of({ batch: 'b' })).toBeUndefined();
    expect(t.size).toBe(1);
    // A server that opens batches and never closes them holds nothing beyond the bound.
    const flood = new BatchTracker();
    for (let i = 0; i < 10_000; i++) flood.onBatchLine([`+b${i}`, 'netsplit'], NONE);
    expect(flood.size).toBe(64);
    flood.reset();
    expect(flood.size).toBe(0);
  });
});
