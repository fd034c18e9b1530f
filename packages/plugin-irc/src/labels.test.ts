import { describe, expect, it } from 'vitest';
import { LabeledSends, type SendReceipt } from './labels.js';

const outcome = (p: Promise<SendReceipt>) => p.then((r) => r, (e: { code: string; message: string }) => `${e.code}: ${e.message}`);

describe('IRC sends confirmed by labeled-response', () => {
  it('hands out distinct short labels', () => {
    const labels = new LabeledSends();
    const seen = new Set(Array.from({ length: 1000 }, () => labels.next()));
    expect(seen.size).toBe(1000);
    for (const l of seen) expect(l).toMatch(/^[a-z0-9]{2,8}$/);
  });

  it('a message is sent once every line was echoed; the first echo gives its msgid and time', async () => {
    const labels = new LabeledSends();
    const [a, b] = [labels.next(), labels.next()];
    const p = outcome(labels.confirm('bob', [a, b]));
    expect(labels.reply(a, { kind: 'echo', msgid: 'm1', time: 1000 })).toBe(true);
    expect(labels.reply(b, { kind: 'echo', msgid: 'm2', time: 1001 })).toBe(true);
    expect(await p).toEqual({ msgid: 'm1', time: 1000 });
    // Answered labels are forgotten: a repeat is not ours.
    expect(labels.reply(a, { kind: 'echo', msgid: 'm1', time: 1000 })).toBe(false);
    expect(labels.pending).toBe(0);
  });

  it('ACK and the end of a labeled batch answer a line; informational lines alone do not', async () => {
    const labels = new LabeledSends();
    const [a, b] = [labels.next(), labels.next()];
    const p = outcome(labels.confirm('#chan', [a, b]));
    labels.reply(a, { kind: 'ack' });
    labels.reply(b, { kind: 'other' });
    expect(labels.owns(b)).toBe(true);
    labels.reply(b, { kind: 'batch-end' });
    expect(await p).toEqual({ msgid: undefined, time: undefined });
  });

  it('a refusal of any line fails the message with the server text; the other lines stay known so their echoes are not new messages', async () => {
    const labels = new LabeledSends();
    const [a, b] = [labels.next(), labels.next()];
    const p = outcome(labels.confirm('#quiet', [a, b]));
    labels.reply(a, { kind: 'refusal', command: '404', text: 'Cannot send to channel' });
    expect(await p).toBe('no-route: Not delivered: #quiet: Cannot send to channel');
    expect(labels.reply(b, { kind: 'echo', msgid: undefined, time: undefined })).toBe(true);
    const empty = outcome(labels.confirm('x', [labels.next()]));
    labels.reply(`p${(3).toString(36)}`, { kind: 'refusal', command: 'FAIL', text: '' });
    expect(await empty).toBe('no-route: Not delivered: x: server error FAIL');
  });

  it('a server that never answers fails the message after the timeout; a closed link leaves it possibly lost', async () => {
    const labels = new LabeledSends(20);
    const late = labels.next();
    const p = outcome(labels.confirm('bob', [late]));
    expect(await p).toMatch(/^send-timeout: /);
    // A late echo is still recognised as ours.
    expect(labels.reply(late, { kind: 'echo', msgid: 'x', time: undefined })).toBe(true);
    const q = outcome(labels.confirm('bob', [labels.next()]));
    labels.closed();
    expect(await q).toMatch(/^send-failed: The connection closed/);
    expect(labels.pending).toBe(0);
  });

  it('labels the server made up, or answers with an odd kind, change nothing', async () => {
    const labels = new LabeledSends();
    const mine = labels.next();
    const p = outcome(labels.confirm('bob', [mine]));
    for (const bogus of ['', '__proto__', 'constructor', 'p0', 'P1', mine + ' ']) expect(labels.reply(bogus, { kind: 'ack' })).toBe(false);
    expect(labels.owns(undefined)).toBe(false);
    labels.reply(mine, { kind: 'ack' });
    expect(await p).toEqual({ msgid: undefined, time: undefined });
  });
});
