import { describe, expect, it } from 'vitest';
import { EVENT_DESCRIPTIONS } from '../events/descriptions.js';
import { HOOK_DESCRIPTIONS } from './descriptions.js';
import { createHooks, HOOK_NAMES } from './hooks.js';

describe('hook and event descriptions (the generated docs tables)', () => {
  it('describe every hook, in the order HOOK_NAMES runs them, with the kind each is built as', () => {
    expect(Object.keys(HOOK_DESCRIPTIONS)).toEqual([...HOOK_NAMES]);
    const hooks = createHooks();
    const kindOf = (hook: object) => ({ AsyncSeriesWaterfallHook: 'async series waterfall', AsyncSeriesHook: 'async series', SyncHook: 'sync' })[hook.constructor.name];
    for (const name of HOOK_NAMES) expect(HOOK_DESCRIPTIONS[name].kind, name).toBe(kindOf(hooks[name]));
  });

  it('say when every event happens', () => {
    for (const [name, when] of Object.entries(EVENT_DESCRIPTIONS)) expect(when, name).toMatch(/^[A-Z].+\.$/);
  });
});
