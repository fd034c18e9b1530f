import { describe, expect, it } from 'vitest';
import type { StatusPrimitive } from '@parley/core';
import type { Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { stateOf } from './pair.js';

export function presenceChecks(lab: Lab): void {
  const { capabilities } = lab.plugin;
  const declared: StatusPrimitive[] = (capabilities.statuses ?? ['available']).filter((s) => s !== 'offline');
  describe('presence', () => {
    it(`publishes each declared status (${declared.join(', ')}) and stays online; "offline" signs off`, async () => {
      const a = await lab.client('main');
      const b = await lab.client('peer');
      const viaServer = lab.harness.statusSeenByServer;
      const viaPeer = viaServer === undefined && capabilities.buddyManagement === true;
      const seenByPeer = () => b.parley.buddies.find(b.accountId, a.address)?.buddy.presence.status;
      await b.connect();
      // The peer has the account on its list before the account signs in, as a buddy list would.
      if (viaPeer) await b.parley.buddies.add(b.accountId, a.address);
      await a.connect();
      if (viaPeer) await eventually(() => seenByPeer() === 'available', `${b.address} to see ${a.address} available`, lab.timeout);
      for (const status of declared) {
        await a.parley.presence.set({ status, message: `conformance: ${status}` }, a.accountId);
        expect(stateOf(a), `setting "${status}" must keep the account online`).toBe('online');
        if (status === 'available') continue;
        if (viaServer !== undefined && status !== 'invisible') {
          await eventually(() => viaServer(a.account, status), `the server to show ${a.address} as ${status}`, lab.timeout);
        } else if (viaPeer) {
          const expected = status === 'invisible' ? 'offline' : status;
          await eventually(() => seenByPeer() === expected, `${b.address} to see ${a.address} as ${expected}`, lab.timeout);
        }
      }
      await a.parley.presence.set({ status: 'available' }, a.accountId);
      if (viaPeer) await eventually(() => seenByPeer() === 'available', `${b.address} to see ${a.address} available again`, lab.timeout);
      await a.parley.presence.set({ status: 'offline' }, a.accountId);
      expect(stateOf(a)).toBe('offline');
    });
  });
}
