import type { Presence } from '@parley/core';

export interface IdleTarget {
  get(): Presence;
  set(presence: Presence): Promise<void>;
}

export interface IdleClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: IdleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Pidgin's "report idle time": after `idleAfterMs` without a keystroke the
 * person is reported idle since their last one (XMPP sends it as XEP-0319,
 * OCS as its idle availability); the next keystroke ends it.
 */
export class IdleReporter {
  private last: number;
  private idle = false;
  /** This client set the idle time, and no keystroke has ended it yet. */
  private reported = false;
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly target: IdleTarget,
    private readonly idleAfterMs: number,
    private readonly onError: (error: unknown) => void = () => {},
    private readonly clock: IdleClock = realClock,
  ) {
    this.last = clock.now();
    this.schedule(idleAfterMs);
  }

  /**
   * A keystroke. It ends an idle time whoever reported it: with several
   * interactive clients attached to one core, the person typing in one of
   * them is not idle because another one has been left alone.
   */
  activity(): void {
    if (this.stopped) return;
    this.last = this.clock.now();
    this.idle = false;
    // The presence is the core's as last heard of: an idle time this client just set may not
    // be back from the core yet, and a keystroke must end it all the same.
    const { idleSince, ...present } = this.target.get();
    if (idleSince !== undefined || this.reported) this.target.set(present).catch(this.onError);
    this.reported = false;
    this.schedule(this.idleAfterMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    if (this.stopped || this.idle) return;
    const quiet = this.clock.now() - this.last;
    if (quiet < this.idleAfterMs) {
      this.schedule(this.idleAfterMs - quiet);
      return;
    }
    this.idle = true;
    const presence = this.target.get();
    // Offline is not idle; a status already marked idle stays as it is.
    if (presence.status === 'offline' || presence.idleSince !== undefined) return;
    this.reported = true;
    this.target.set({ ...presence, idleSince: this.last }).catch(this.onError);
  }
}
