import { describe, expect, it } from 'vitest';
import type { Lab } from '../lab.js';
import { eventually } from '../wait.js';
import { onlinePair, stateOf, unique } from './pair.js';

export function hostileInputChecks(lab: Lab): void {
  describe('bad input from the server', () => {
    it('malformed and hostile input is survived: still online, the next message arrives', async () => {
      const inject = lab.harness.injectBadInput!;
      const [a, b] = await onlinePair(lab);
      await inject(a.account, b.account);
      const marker = unique('after the bad input');
      await b.parley.conversations.sendIm(b.accountId, a.address, marker);
      await eventually(() => a.received.some(([m]) => m.text === marker), `${a.address} to receive the next message`, lab.timeout);
      expect(stateOf(a)).toBe('online');
      expect(a.statuses.some((s) => s.state === 'error')).toBe(false);
    });
  });
}
