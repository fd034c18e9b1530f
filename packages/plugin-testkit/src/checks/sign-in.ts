import { describe, expect, it } from 'vitest';
import { CONNECTION_ERROR_CODES, isParleyError, type AccountStatus, type ConnectionError } from '@parley/core';
import type { Lab } from '../lab.js';
import { record } from '../wait.js';
import { stateOf } from './pair.js';

/** How many times the account started connecting (a run of progress updates is one attempt). */
function attempts(statuses: readonly AccountStatus[]): number {
  return statuses.filter((s, i) => s.state === 'connecting' && statuses[i - 1]?.state !== 'connecting').length;
}

export function signInChecks(lab: Lab): void {
  describe('sign in and out', () => {
    it('signs in, signs out cleanly, and signs in again', async () => {
      const a = await lab.client('main');
      const connected = record(a.parley.events, 'accountConnected');
      const disconnected = record(a.parley.events, 'accountDisconnected');
      await a.connect();
      expect(stateOf(a)).toBe('online');
      expect(connected).toHaveLength(1);
      await a.parley.accounts.disconnect(a.accountId);
      expect(stateOf(a)).toBe('offline');
      expect(disconnected).toHaveLength(1);
      // Signing off on purpose is not an error.
      expect(disconnected[0]![1]).toBeUndefined();
      await a.connect();
      expect(stateOf(a)).toBe('online');
      expect(connected).toHaveLength(2);
    });

    it('a wrong password fails with authentication-failed, is fatal, and is not retried', async () => {
      const a = await lab.client('wrongPassword');
      const error = await a.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isParleyError(error, CONNECTION_ERROR_CODES), `expected a ConnectionError, got ${String(error)}`).toBe(true);
      const { reason, fatal, message } = error as ConnectionError;
      expect({ reason, fatal }, `the sign-in failed with "${message}"`).toEqual({ reason: 'authentication-failed', fatal: true });
      // The core's state says whether another attempt will come: in 'error' it has scheduled none
      // (a retry would show as 'reconnecting' with its time), so nothing more can happen by itself.
      expect(stateOf(a)).toBe('error');
      expect(a.parley.accounts.status(a.accountId).nextAttemptAt).toBeUndefined();
      expect(attempts(a.statuses)).toBe(1);
      expect(a.statuses.some((s) => s.state === 'reconnecting')).toBe(false);
      expect(stateOf(a)).toBe('error');
    });
  });
}
