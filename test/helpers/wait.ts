import type { ParleyEventMap, ParleyEventsListenOnly } from '@parley/core';

/**
 * How long a wait gives up after unless told: long enough for a sign-in on a busy 2-core machine
 * (the suite shares it with other work). A wait ends as soon as its signal comes, so this only
 * changes how long a failing test takes to say so.
 */
export const DEFAULT_WAIT_MS = 20_000;

/** Resolves with the arguments of the first `event` that satisfies `predicate`; rejects after `ms`. */
export function waitForEvent<K extends keyof ParleyEventMap>(
  events: ParleyEventsListenOnly,
  event: K,
  predicate: (...args: ParleyEventMap[K]) => boolean = () => true,
  ms = DEFAULT_WAIT_MS,
): Promise<ParleyEventMap[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ParleyEventMap[K]) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      events.off(event, listener as never);
      resolve(args);
    };
    const timer = setTimeout(() => {
      events.off(event, listener as never);
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, ms);
    events.on(event, listener as never);
  });
}

/** Polls `check` until it returns true; rejects after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = DEFAULT_WAIT_MS, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls `check` until it returns a value other than undefined/false, and resolves with it. */
export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Every state `accountId` goes through from now on, as the core reports
 * them. A test that waits for a connection loss looks here rather than at
 * the state of the moment: the core's quick retry after a drop may have the
 * account online again before the test looks.
 */
export function recordStates(events: ParleyEventsListenOnly, accountId: string): string[] {
  const states: string[] = [];
  events.on('accountStatusChanged', (account, status) => {
    if (account.id === accountId) states.push(status.state);
  });
  return states;
}
