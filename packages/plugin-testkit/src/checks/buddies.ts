import { describe, expect, it } from 'vitest';
import type { Client, Lab } from '../lab.js';
import { eventually, nextEvent } from '../wait.js';

/**
 * Signs in and waits until the plugin says the server's buddy list is applied
 * (`buddyListSynced`): only then does a buddy missing from the list mean the
 * server does not have it.
 */
async function connectAndSync(client: Client, timeout: number): Promise<void> {
  const synced = nextEvent(client.parley.events, 'buddyListSynced', (id) => id === client.accountId, `${client.address}'s buddy list to be synced after sign-in (ctx.buddies.synced())`, timeout);
  synced.catch(() => undefined);
  await client.connect();
  await synced;
}

export function buddyChecks(lab: Lab): void {
  describe('buddy list (declared: capabilities.buddyManagement)', () => {
    it('adds a buddy and removes it, and each survives signing in again', async () => {
      const a = await lab.client('main');
      const peer = await lab.account('peer');
      const name = peer.address ?? peer.username;
      await connectAndSync(a, lab.timeout);
      await a.parley.buddies.add(a.accountId, name, { group: 'Conformance' });
      expect(a.parley.buddies.find(a.accountId, name)).toBeDefined();
      await a.parley.accounts.disconnect(a.accountId);
      await connectAndSync(a, lab.timeout);
      expect(a.parley.buddies.find(a.accountId, name), 'the buddy should still be there after signing in again').toBeDefined();

      await a.parley.buddies.remove(a.accountId, name);
      expect(a.parley.buddies.find(a.accountId, name)).toBeUndefined();
      await a.parley.accounts.disconnect(a.accountId);
      await connectAndSync(a, lab.timeout);
      expect(a.parley.buddies.find(a.accountId, name), 'a removed buddy must not come back with the next roster').toBeUndefined();
    });

    it('shows a buddy signing in and out', async () => {
      const a = await lab.client('main');
      const b = await lab.client('peer');
      await a.connect();
      await a.parley.buddies.add(a.accountId, b.address);
      await b.connect();
      const presence = () => a.parley.buddies.find(a.accountId, b.address)?.buddy.presence.status;
      await eventually(() => presence() !== undefined && presence() !== 'offline', `${a.address} to see ${b.address} online`, lab.timeout);
      await b.parley.accounts.disconnect(b.accountId);
      await eventually(() => presence() === 'offline', `${a.address} to see ${b.address} go offline`, lab.timeout);
      await b.connect();
      await eventually(() => presence() !== undefined && presence() !== 'offline', `${a.address} to see ${b.address} back`, lab.timeout);
      expect(a.parley.accounts.status(a.accountId).state).toBe('online');
    });
  });
}
