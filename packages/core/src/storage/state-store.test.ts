import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from './state-store.js';

const dir = () => mkdtempSync(join(tmpdir(), 'parley-state-'));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not reached');
}

describe('StateStore', () => {
  it('keeps a copy of each value, given as a value or as the JSON text a worker sends, across a restart', async () => {
    const home = dir();
    const store = new StateStore(home, (error) => {
      throw error;
    });
    const roster = { ver: '7', items: [['a@x', 'A', ['G'], 'both', null]] };
    store.set('acct', 'plugin:roster', roster);
    store.setJson('acct', 'plugin:kept', JSON.stringify({ n: 1, list: [1, 2] }));
    store.setJson('acct', 'plugin:gone', JSON.stringify('x'));
    store.setJson('acct', 'plugin:gone', undefined);
    // A string is kept as the very string given (it cannot change), and survives a restart as well.
    const text = JSON.stringify({ ver: '8', items: [['b@x', null, [], 'none', false]] }) + '\ud800';
    store.set('acct', 'plugin:text', text);
    expect(store.get('acct', 'plugin:text')).toBe(text);
    roster.items.push(['changed later', null, [], 'none', null]);
    expect(store.get('acct', 'plugin:roster')).toEqual({ ver: '7', items: [['a@x', 'A', ['G'], 'both', null]] });
    expect(store.entries('acct', 'plugin:')).toEqual({ roster: { ver: '7', items: [['a@x', 'A', ['G'], 'both', null]] }, kept: { n: 1, list: [1, 2] }, gone: undefined, text });
    await store.flush();
    const again = new StateStore(home);
    expect(again.get('acct', 'plugin:roster')).toEqual({ ver: '7', items: [['a@x', 'A', ['G'], 'both', null]] });
    expect(again.get('acct', 'plugin:kept')).toEqual({ n: 1, list: [1, 2] });
    expect(again.get('acct', 'plugin:gone')).toBeUndefined();
    expect(again.get('acct', 'plugin:text')).toBe(text);
  });

  it('writes a change in the background, without a flush', async () => {
    const home = dir();
    const store = new StateStore(home, (error) => {
      throw error;
    });
    store.set('acct', 'lastStatus', 'away');
    const path = join(home, 'state.json');
    await until(() => existsSync(path) && readFileSync(path, 'utf8').includes('away'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ acct: { lastStatus: 'away' } });
  });

  it('refuses a value that has no JSON form, as it would be lost at the next start', () => {
    const store = new StateStore(dir());
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => store.set('acct', 'x', cyclic)).toThrow();
    expect(() => store.setJson('acct', 'x', '{not json')).toThrow(SyntaxError);
    expect(store.get('acct', 'x')).toBeUndefined();
  });
});
