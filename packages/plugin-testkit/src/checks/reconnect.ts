import { describe, expect, it } from 'vitest';
import type { Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { stateOf } from './pair.js';

export function reconnectChecks(lab: Lab): void {
  describe('connection loss', () => {
    it('reports a lost connection as not fatal, and the core brings the account back online', async () => {
      const a = await lab.client('main');
      await a.connect();
      const from = a.statuses.length;
      await lab.harness.interrupt(a.account);
      const lost = await eventually(() => a.statuses.slice(from).find((s) => s.state === 'reconnecting'), 'the core to schedule a reconnect', lab.timeout);
      expect(lost.error, 'the loss must carry its ConnectionError').toBeDefined();
      expect(lost.error!.fatal).toBe(false);
      expect(lost.nextAttemptAt).toBeTypeOf('number');
      // No call to connect(): the core's own retry brings it back.
      await eventually(() => stateOf(a) === 'online', 'the account to be online again', lab.timeout);
    });
  });
}
