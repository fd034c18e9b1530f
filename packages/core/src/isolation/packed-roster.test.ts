import { describe, expect, it } from 'vitest';
import type { RosterEntry } from '../plugins/contract.js';
import { concatPacked, isPackedRoster, packRoster, samePackedRoster, unpackRoster } from './packed-roster.js';

const entries: RosterEntry[] = [
  { name: 'bob@x', alias: 'Bob', groups: ['Work'] },
  { name: 'carol@x' },
  { name: 'dave@x', groups: ['A', 'B'] },
  { name: 'erin@x', groups: [] },
];

describe('a roster as columns', () => {
  it('unpacks to the entries it was packed from, each with its own list of groups', () => {
    const packed = packRoster(entries);
    const back = unpackRoster(packed);
    expect(back).toEqual(entries);
    expect(back[2]!.groups).not.toBe(entries[2]!.groups);
  });

  it('keeps what a plugin put in a bad entry as it was, for the core to judge', () => {
    const bad = [null, 'text', { name: 5, groups: 'Work' }] as unknown as RosterEntry[];
    expect(unpackRoster(packRoster(bad))).toEqual([{ name: undefined }, { name: undefined }, { name: 5, groups: 'Work' }]);
  });

  it('joins several packed lists in order, and one list is itself', () => {
    const parts = [packRoster(entries.slice(0, 1)), packRoster([]), packRoster(entries.slice(1, 3)), packRoster(entries.slice(3))];
    const joined = concatPacked(parts);
    expect(unpackRoster(joined)).toEqual(entries);
    expect(samePackedRoster(joined, packRoster(entries))).toBe(false); // dave's two groups are boxed: never taken as the same
    expect(samePackedRoster(concatPacked(parts.slice(0, 2)), packRoster(entries.slice(0, 1)))).toBe(true);
    expect(concatPacked([parts[2]!])).toBe(parts[2]);
    expect(unpackRoster(concatPacked([]))).toEqual([]);
  });

  it('takes from the other side only three columns of one length', () => {
    expect(isPackedRoster(packRoster(entries))).toBe(true);
    for (const bad of [null, 'x', {}, { names: [], aliases: [] }, { names: ['a'], aliases: [], groups: [] }, { names: 'a', aliases: [], groups: [] }]) expect(isPackedRoster(bad)).toBe(false);
  });
});
