import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SendReceipt } from './confirmations.js';
import { OutgoingQueue, type LineSink, type SendTicket } from './flood.js';

/** Writes lines into an array; a message's receipt lists its lines as the "msgid". */
class Sink implements LineSink {
  readonly lines: string[] = [];
  readonly started: string[] = [];
  start(target: string, lines: readonly string[]): SendTicket {
    this.started.push(target);
    return {
      write: (index) => this.lines.push(lines[index]!),
      finish: async () => ({ msgid: lines.join('|'), time: undefined }),
    };
  }
  writeLine(line: string): void {
    this.lines.push(line);
  }
}

const outcome = (p: Promise<SendReceipt>) => p.then((r) => r.msgid, (e: { code: string; message: string }) => `${e.code}: ${e.message}`);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IRC outgoing flood control', () => {
  it('writes a burst at once, then one line per interval, in order; tokens come back while idle', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 4, intervalMs: 2000 }, () => Date.now());
    const sink = new Sink();
    queue.attach(sink);
    const lines = Array.from({ length: 10 }, (_, i) => `PRIVMSG #c :${i}`);
    const done = outcome(queue.enqueue('#c', lines));
    expect(sink.lines).toHaveLength(4);
    expect(queue.queuedLines).toBe(6);
    expect(queue.delayFor(1)).toBe(7 * 2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(sink.lines).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.lines).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(5 * 2000);
    expect(sink.lines).toEqual(lines);
    expect(await done).toBe(lines.join('|'));
    // Idle for two intervals: two lines may go out at once again.
    await vi.advanceTimersByTimeAsync(4000);
    void queue.enqueue('#c', ['a', 'b', 'c']);
    expect(sink.lines.slice(10)).toEqual(['a', 'b']);
  });

  it('messages queue behind each other and keep their order', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 1, intervalMs: 1000 }, () => Date.now());
    const sink = new Sink();
    queue.attach(sink);
    const a = outcome(queue.enqueue('#c', ['a1', 'a2']));
    const b = outcome(queue.enqueue('#c', ['b1']));
    await vi.advanceTimersByTimeAsync(2000);
    expect(sink.lines).toEqual(['a1', 'a2', 'b1']);
    expect(await a).toBe('a1|a2');
    expect(await b).toBe('b1');
  });

  it('interval 0 turns pacing off', () => {
    const queue = new OutgoingQueue<Sink>({ burst: 1, intervalMs: 0 }, () => Date.now());
    const sink = new Sink();
    queue.attach(sink);
    void queue.enqueue('#c', Array.from({ length: 50 }, (_, i) => `l${i}`));
    expect(sink.lines).toHaveLength(50);
    expect(queue.delayFor(100)).toBe(0);
  });

  it('a dropped link fails the message it was halfway through; the messages not started go out on the next link', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 2, intervalMs: 1000 }, () => Date.now());
    const first = new Sink();
    queue.attach(first);
    const cut = outcome(queue.enqueue('#c', ['c1', 'c2', 'c3']));
    const waiting = outcome(queue.enqueue('#c', ['w1']));
    expect(first.lines).toEqual(['c1', 'c2']);
    queue.detach(first);
    expect(await cut).toMatch(/^send-failed: The connection closed while the message was being sent/);
    // Nothing goes out while no link is up.
    await vi.advanceTimersByTimeAsync(5000);
    const second = new Sink();
    // A stale link's detach changes nothing.
    queue.detach(first);
    queue.attach(second);
    expect(second.lines).toEqual(['w1']);
    expect(await waiting).toBe('w1');
    // The message cut off was started on the first link only; the waiting one on the second.
    expect([first.started, second.started]).toEqual([['#c'], ['#c']]);
  });

  it('a message that cannot start in time, or is still queued when the account signs off, fails as not sent', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 1, intervalMs: 1000 }, () => Date.now(), 10_000);
    const stuck = outcome(queue.enqueue('#c', ['x']));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await stuck).toMatch(/^send-timeout: /);
    const later = outcome(queue.enqueue('#c', ['y']));
    queue.failAll(Object.assign(new Error('Not sent: the account went offline'), { code: 'send-failed' }) as never);
    expect(await later).toBe('send-failed: Not sent: the account went offline');
    expect(queue.queuedLines).toBe(0);
  });

  it('settings from the account are clamped to something that can send', () => {
    const queue = new OutgoingQueue<Sink>({ burst: 4, intervalMs: 2000 }, () => Date.now());
    queue.configure({ burst: 0, intervalMs: -5 });
    const sink = new Sink();
    queue.attach(sink);
    void queue.enqueue('#c', ['a', 'b']);
    expect(sink.lines).toEqual(['a', 'b']);
  });
});

describe('IRC flood control of lines that are not messages', () => {
  it('JOIN, WHO and MODE lines are paced in order with messages, and say when they are written', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 2, intervalMs: 1000 }, () => Date.now());
    const sink = new Sink();
    const written: string[] = [];
    queue.attach(sink);
    void queue.enqueue('#c', ['m1', 'm2', 'm3']);
    for (const line of ['JOIN #a', 'WHO #a', 'MODE #a']) queue.enqueueLine(line, { written: () => written.push(line) });
    expect(sink.lines).toEqual(['m1', 'm2']);
    expect(queue.queuedLines).toBe(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sink.lines).toEqual(['m1', 'm2', 'm3']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(sink.lines).toEqual(['m1', 'm2', 'm3', 'JOIN #a']);
    expect(written).toEqual(['JOIN #a']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(sink.lines.slice(3)).toEqual(['JOIN #a', 'WHO #a', 'MODE #a']);
    expect(written).toEqual(['JOIN #a', 'WHO #a', 'MODE #a']);
  });

  it('JOINs and queries go ahead of messages not started yet; PART keeps its place, and no line that is not a message passes another', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 1, intervalMs: 1000 }, () => Date.now());
    const sink = new Sink();
    queue.attach(sink);
    void queue.enqueue('#a', ['a1', 'a2']);
    void queue.enqueue('#a', ['b1']);
    queue.enqueueLine('JOIN #b', { ahead: true });
    queue.enqueueLine('WHO #b', { ahead: true });
    void queue.enqueue('#b', ['c1']);
    queue.enqueueLine('PART #a');
    void queue.enqueue('#b', ['d1']);
    queue.enqueueLine('CHATHISTORY LATEST #a * 5', { ahead: true });
    await vi.advanceTimersByTimeAsync(20_000);
    // a1 had started: its second line is not cut off by the JOIN. The query after the PART stays after it.
    expect(sink.lines).toEqual(['a1', 'a2', 'JOIN #b', 'WHO #b', 'b1', 'c1', 'PART #a', 'CHATHISTORY LATEST #a * 5', 'd1']);
  });

  it('lines that are not messages die with their link; messages wait for the next', async () => {
    const queue = new OutgoingQueue<Sink>({ burst: 1, intervalMs: 1000 }, () => Date.now());
    const first = new Sink();
    queue.attach(first);
    queue.enqueueLine('JOIN #a');
    queue.enqueueLine('WHO #a');
    const message = outcome(queue.enqueue('#a', ['hello']));
    queue.enqueueLine('MONITOR + bob');
    expect(first.lines).toEqual(['JOIN #a']);
    queue.detach(first);
    const second = new Sink();
    queue.attach(second);
    await vi.advanceTimersByTimeAsync(5000);
    expect(second.lines).toEqual(['hello']);
    expect(await message).toBe('hello');
  });
});
