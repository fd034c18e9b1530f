import { MessageError } from '@parley/core';
import type { SendReceipt } from './confirmations.js';

/**
 * Outgoing flood control: servers disconnect ("Excess Flood") or slow down
 * (ergo's fake lag) a client that writes lines faster than they allow, so
 * message lines leave through a token bucket — `burst` lines at once, then
 * one every `intervalMs` — as irssi, HexChat and WeeChat do. Pasting 50 lines
 * or sending a long split message is then paced instead of getting the
 * account killed.
 *
 * The queue belongs to the account, not to one connection: when the link
 * drops, messages not started yet wait and go out on the next link, in
 * order. A message cut off half-written fails as possibly lost (its first
 * lines went out on a dead link); one that waits longer than `maxWaitMs`
 * to start fails as not sent.
 */

export interface FloodSettings {
  /** Lines written at once before pacing starts. */
  burst: number;
  /** Then one line per this many milliseconds; 0 turns flood control off. */
  intervalMs: number;
}

export const DEFAULT_FLOOD: FloodSettings = { burst: 4, intervalMs: 2000 };

/** One message going out on one link: it knows how the server will answer its lines. */
export interface SendTicket {
  /** Writes line `index` of the message. */
  write(index: number): void;
  /** Its last line is out: settles as the server answers. */
  finish(): Promise<SendReceipt>;
}

/** The connection currently writing the queue's lines. */
export interface LineSink {
  /** A message's first line is about to go out on this link: from now on, answers to its lines count. */
  start(target: string, lines: readonly string[]): SendTicket;
  /** Writes a paced line that is not a message (JOIN, MODE, WHO, MONITOR, CHATHISTORY). */
  writeLine(line: string): void;
}

interface Job {
  /** A line that is not a message: it belongs to the link it was queued for and dies with it. */
  control?: true;
  /** A control line that goes ahead of messages not started yet (a JOIN, a query). */
  ahead?: true;
  target: string;
  lines: readonly string[];
  written: number;
  ticket: SendTicket | undefined;
  resolve(receipt: Promise<SendReceipt>): void;
  reject(error: MessageError): void;
  timer: NodeJS.Timeout | undefined;
}

/** How long a message may wait to start (the link may be down meanwhile). */
export const MAX_WAIT_MS = 10 * 60_000;

export class OutgoingQueue<S extends LineSink> {
  private readonly jobs: Job[] = [];
  private sink: S | undefined;
  private tokens: number;
  private refilledAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private settings: FloodSettings = DEFAULT_FLOOD,
    private readonly now: () => number = Date.now,
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {
    this.tokens = settings.burst;
    this.refilledAt = now();
  }

  configure(settings: FloodSettings): void {
    this.settings = { burst: Math.max(1, Math.floor(settings.burst)), intervalMs: Math.max(0, settings.intervalMs) };
    this.tokens = Math.min(this.tokens, this.settings.burst);
  }

  /** A link is up (registered): its lines go out through `sink`. */
  attach(sink: S): void {
    this.sink = sink;
    this.drain();
  }

  /**
   * The link behind `sink` is gone. A message it was halfway through fails as
   * possibly lost; the others wait for the next link.
   */
  detach(sink: S): void {
    if (this.sink !== sink) return;
    this.sink = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const current = this.jobs[0];
    if (current !== undefined && current.written > 0) {
      this.jobs.shift();
      clearTimeout(current.timer);
      current.reject(new MessageError('send-failed', 'The connection closed while the message was being sent: part of it may not have arrived'));
    }
    // JOIN, WHO, MONITOR and the like were about that link's state; the next link sends its own.
    for (const job of this.jobs.filter((j) => j.control === true)) {
      this.remove(job);
      clearTimeout(job.timer);
    }
  }

  /**
   * Queues a line that is not a message, paced with the messages so a burst
   * of JOINs, WHOs or MODEs at sign-in cannot flood the account off. It is
   * only ever written on the link attached now (or the next one, if none
   * is): when that link drops it is dropped too. `ahead` lines (JOIN,
   * queries) pass messages that have not started: after a reconnect the
   * rejoins go out before the messages that waited for them, which the
   * server would otherwise refuse. Others (PART, TOPIC) keep their place
   * after what the user sent before them. Lines that are not messages never
   * pass each other.
   */
  enqueueLine(line: string, options: { written?: () => void; ahead?: boolean } = {}): void {
    const job: Job = { control: true, target: '', lines: [line], written: 0, ticket: undefined, resolve: options.written ?? (() => {}), reject: () => {}, timer: undefined };
    if (options.ahead === true) {
      job.ahead = true;
      // After every control line and the message being written; before the messages that wait.
      let index = this.jobs.length;
      while (index > 0 && this.jobs[index - 1]!.control !== true && this.jobs[index - 1]!.written === 0) index--;
      this.jobs.splice(index, 0, job);
    } else {
      this.jobs.push(job);
    }
    this.drain();
  }

  /** Queues a message's lines to `target`; settles as the server answers them, once all are written on one link. */
  enqueue(target: string, lines: readonly string[]): Promise<SendReceipt> {
    return new Promise<SendReceipt>((resolve, reject) => {
      const job: Job = {
        target,
        lines,
        written: 0,
        ticket: undefined,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (job.written > 0) return;
          this.remove(job);
          reject(new MessageError('send-timeout', 'Not sent: the account was not back online in time'));
        }, this.maxWaitMs),
      };
      job.timer?.unref();
      this.jobs.push(job);
      this.drain();
    });
  }

  /** Lines waiting to be written. */
  get queuedLines(): number {
    let n = 0;
    for (const job of this.jobs) n += job.lines.length - job.written;
    return n;
  }

  /** Roughly how long until `lines` more lines would be written, at the current pace. */
  delayFor(lines: number): number {
    if (this.settings.intervalMs === 0) return 0;
    this.refill();
    const waiting = this.queuedLines + lines - Math.floor(this.tokens);
    return waiting <= 0 ? 0 : waiting * this.settings.intervalMs;
  }

  /** The account will not come back (signed off, fatal error): nothing queued will be sent. */
  failAll(error: MessageError): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const job of this.jobs.splice(0)) {
      clearTimeout(job.timer);
      job.reject(error);
    }
  }

  private remove(job: Job): void {
    const index = this.jobs.indexOf(job);
    if (index >= 0) this.jobs.splice(index, 1);
  }

  private refill(): void {
    const now = this.now();
    if (this.settings.intervalMs === 0) {
      this.tokens = this.settings.burst;
    } else {
      this.tokens = Math.min(this.settings.burst, this.tokens + (now - this.refilledAt) / this.settings.intervalMs);
    }
    this.refilledAt = now;
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    const sink = this.sink;
    if (sink === undefined) return;
    this.refill();
    while (this.jobs.length > 0 && (this.settings.intervalMs === 0 || this.tokens >= 1)) {
      const job = this.jobs[0]!;
      if (job.control === true) {
        this.jobs.shift();
        if (this.settings.intervalMs !== 0) this.tokens -= 1;
        sink.writeLine(job.lines[0]!);
        if (this.sink !== sink) return;
        job.resolve(Promise.resolve({ msgid: undefined, time: undefined }));
        continue;
      }
      job.ticket ??= sink.start(job.target, job.lines);
      job.ticket.write(job.written++);
      if (this.settings.intervalMs !== 0) this.tokens -= 1;
      if (job.written === job.lines.length) {
        this.jobs.shift();
        clearTimeout(job.timer);
        job.resolve(job.ticket.finish());
      }
      // A sink may detach itself while writing (the socket is gone).
      if (this.sink !== sink) return;
    }
    if (this.jobs.length === 0) return;
    const wait = Math.ceil((1 - this.tokens) * this.settings.intervalMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
  }
}
