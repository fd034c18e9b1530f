import { describe, expect, it } from 'vitest';
import type { Presence } from '@parley/core';
import { IdleReporter, type IdleClock } from './idle.js';

/** A clock the test moves by hand: timers fire when it passes their time. */
class ManualClock implements IdleClock {
  time = 1_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.next;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== handle);
  };
  advance(ms: number): void {
    this.time += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.time)) {
      this.timers = this.timers.filter((t) => t !== timer);
      timer.fn();
    }
  }
}

function target(initial: Presence) {
  const sets: Presence[] = [];
  let current = initial;
  return {
    sets,
    get: () => current,
    set: async (p: Presence) => {
      sets.push(p);
      current = p;
    },
  };
}

describe('idle reporting', () => {
  it('a keystroke ends the idle time it reported even before the core has told it of that presence', () => {
    const clock = new ManualClock();
    // A core whose presence comes back to this client later than the set goes out.
    const sets: Presence[] = [];
    const heard: Presence = { status: 'available' };
    const idle = new IdleReporter({ get: () => heard, set: async (p) => void sets.push(p) }, 60_000, undefined, clock);
    clock.advance(60_000);
    expect(sets).toEqual([{ status: 'available', idleSince: 1_000 }]);
    idle.activity();
    expect(sets).toEqual([{ status: 'available', idleSince: 1_000 }, { status: 'available' }]);
    // Once ended, the next keystroke has nothing to end.
    idle.activity();
    expect(sets).toHaveLength(2);
    idle.stop();
  });

  it('reports idle since the last keystroke after the quiet time, and back at the next keystroke', () => {
    const clock = new ManualClock();
    const t = target({ status: 'away', message: 'lunch' });
    const idle = new IdleReporter(t, 60_000, undefined, clock);
    clock.advance(30_000);
    idle.activity(); // at 31 000
    clock.advance(59_000);
    expect(t.sets).toEqual([]);
    clock.advance(1_000);
    expect(t.sets).toEqual([{ status: 'away', message: 'lunch', idleSince: 31_000 }]);
    clock.advance(600_000);
    expect(t.sets).toHaveLength(1);
    idle.activity();
    expect(t.sets[1]).toEqual({ status: 'away', message: 'lunch' });
    idle.stop();
    clock.advance(600_000);
    expect(t.sets).toHaveLength(2);
  });

  it('with two clients on one core, a keystroke in either ends the idle time the other reported; typing sends nothing while not idle', () => {
    const clock = new ManualClock();
    const t = target({ status: 'available' });
    const left = new IdleReporter(t, 60_000, undefined, clock);
    const used = new IdleReporter(t, 60_000, undefined, clock);
    clock.advance(30_000);
    used.activity(); // at 31 000: nothing to end
    expect(t.sets).toEqual([]);
    clock.advance(30_000); // 61 000: the client left alone reports idle since it started
    expect(t.sets).toEqual([{ status: 'available', idleSince: 1_000 }]);
    used.activity();
    expect(t.sets[1]).toEqual({ status: 'available' });
    clock.advance(30_000); // the left one does not report again until someone types in it
    expect(t.sets).toHaveLength(2);
    left.stop();
    used.stop();
  });

  it('never reports an offline person idle', () => {
    const clock = new ManualClock();
    const t = target({ status: 'offline' });
    new IdleReporter(t, 1_000, undefined, clock);
    clock.advance(5_000);
    expect(t.sets).toEqual([]);
  });
});
