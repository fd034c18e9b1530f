// A plugin hands a roster of thousands over entry by entry as it arrives
// (ctx.buddies.syncInParts, core API 1.15): each entry is in the buddy list at
// once, the change is announced once at the end, who was not in the roster is
// removed then (and only for a roster that arrived whole), and a bad entry is
// dropped with a log line naming the plugin instead of breaking the roster.
import { afterEach, describe, expect, it } from 'vitest';
import { createParley, defineProtocolPlugin, type ConnectionContext, type LogRecord, type Parley } from '@parley/core';
import { tempHome } from './helpers/temp.js';

let parley: Parley | undefined;
afterEach(async () => {
  await parley?.shutdown();
  parley = undefined;
});

async function setup(): Promise<{ ctx: ConnectionContext; p: Parley; logs: LogRecord[]; changes: () => number }> {
  let ctx: ConnectionContext | undefined;
  const plugin = defineProtocolPlugin({
    id: 'rosterparts',
    name: 'Roster parts',
    options: {},
    capabilities: {},
    createConnection(context) {
      ctx = context;
      return { connect: async () => {}, disconnect: async () => {}, sendMessage: async () => {} };
    },
  });
  const logs: LogRecord[] = [];
  parley = await createParley({ home: tempHome(), discover: false, plugins: [plugin], secretStore: 'file', passphrase: 'test', history: false, log: (r) => logs.push(r) });
  const account = await parley.accounts.add({ protocol: 'rosterparts', username: 'me' });
  await parley.accounts.connect(account.id);
  let changed = 0;
  parley.events.on('buddyListChanged', () => changed++);
  return { ctx: ctx!, p: parley, logs, changes: () => changed };
}

const names = (p: Parley): string[] => p.buddies.contacts().flatMap((c) => c.buddies.map((b) => b.name)).sort();

describe('a roster handed over in parts', () => {
  it('is in the list entry by entry, announced once at its end, which removes who was not in it', async () => {
    const { ctx, p, changes } = await setup();
    ctx.buddies.sync([{ name: 'gone@x' }, { name: 'kept@x', alias: 'Old' }]);
    const before = changes();
    const parts = ctx.buddies.syncInParts!();
    parts.add({ name: 'kept@x', alias: 'Kept', groups: ['Work'] });
    parts.add({ name: 'new@x' });
    expect(names(p)).toEqual(['gone@x', 'kept@x', 'new@x']);
    expect(changes()).toBe(before);
    parts.end();
    expect(names(p)).toEqual(['kept@x', 'new@x']);
    expect(p.buddies.contacts().find((c) => c.buddies[0]?.name === 'kept@x')).toMatchObject({ displayName: 'Kept', group: 'Work' });
    expect(changes()).toBe(before + 1);
  });

  it('cut short, keeps what came and removes nothing; a bad entry is dropped with a log line and the rest goes on', async () => {
    const { ctx, p, logs } = await setup();
    ctx.buddies.sync([{ name: 'old@x' }]);
    const parts = ctx.buddies.syncInParts!();
    parts.add({ name: '' });
    parts.add(null as never);
    parts.add({ name: 'first@x' });
    parts.end(false);
    expect(names(p)).toEqual(['first@x', 'old@x']);
    expect(logs.filter((r) => r.message === 'plugin Roster parts gave bad input to buddies.syncInParts')).toHaveLength(2);
  });
});
