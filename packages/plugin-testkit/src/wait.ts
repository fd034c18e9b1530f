import type { ParleyEventMap, ParleyEventsListenOnly } from '@parley/core';

/** Polls `check` until it returns something other than undefined/false; fails naming `what` after `ms`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Collects every `event` from now on, so a test can wait for one that already happened. */
export function record<K extends keyof ParleyEventMap>(events: ParleyEventsListenOnly, event: K): Array<ParleyEventMap[K]> {
  const seen: Array<ParleyEventMap[K]> = [];
  events.on(event, ((...args: ParleyEventMap[K]) => void seen.push(args)) as never);
  return seen;
}

/**
 * The next `event` whose arguments `matches` accepts, from now on; fails naming `what` after `ms`.
 * Call it before the action that causes the event, so an early one is not missed.
 */
export function nextEvent<K extends keyof ParleyEventMap>(
  events: ParleyEventsListenOnly,
  event: K,
  matches: (...args: ParleyEventMap[K]) => boolean,
  what: string,
  ms: number,
): Promise<ParleyEventMap[K]> {
  return new Promise((resolve, reject) => {
    const listener = ((...args: ParleyEventMap[K]) => {
      if (!matches(...args)) return;
      clearTimeout(timer);
      events.off(event, listener);
      resolve(args);
    }) as never;
    const timer = setTimeout(() => {
      events.off(event, listener);
      reject(new Error(`Timed out waiting for ${what}`));
    }, ms);
    events.on(event, listener);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
