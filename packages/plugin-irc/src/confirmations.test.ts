import { describe, expect, it } from 'vitest';
import { SendConfirmations } from './confirmations.js';

function setup() {
  const pings: string[] = [];
  const confirmations = new SendConfirmations((token) => pings.push(token), (a, b) => a.toLowerCase() === b.toLowerCase(), 60_000);
  const outcome = (p: Promise<unknown>) => p.then(() => 'sent', (e: { code: string; message: string }) => `${e.code}: ${e.message}`);
  return { pings, confirmations, outcome };
}

describe('IRC send confirmations', () => {
  it('one PING follows the messages written in the same tick; its PONG confirms them', async () => {
    const { pings, confirmations, outcome } = setup();
    const a = outcome(confirmations.confirm('bob', 1));
    const b = outcome(confirmations.confirm('carol', 1));
    await Promise.resolve();
    expect(pings).toEqual(['parley-sent-1']);
    const c = outcome(confirmations.confirm('bob', 1));
    await Promise.resolve();
    expect(pings).toEqual(['parley-sent-1', 'parley-sent-2']);
    expect(confirmations.pong('parley-sent-1')).toBe(true);
    expect(await a).toBe('sent');
    expect(await b).toBe('sent');
    confirmations.pong('parley-sent-2');
    expect(await c).toBe('sent');
  });

  it('a refusal before the PONG fails the oldest unanswered message to that target, with the server text', async () => {
    const { confirmations, outcome } = setup();
    const first = outcome(confirmations.confirm('Bob', 1));
    const second = outcome(confirmations.confirm('bob', 1));
    await Promise.resolve();
    confirmations.numeric('401', ['alice', 'bob', 'No such nick or channel name']);
    confirmations.pong('parley-sent-1');
    expect(await first).toBe('no-route: Not delivered: bob: No such nick or channel name');
    expect(await second).toBe('sent');
  });

  it('a message of several lines is refused once per line and fails once; the next message is not blamed', async () => {
    const { confirmations, outcome } = setup();
    const long = outcome(confirmations.confirm('#closed', 3));
    const next = outcome(confirmations.confirm('#closed', 1));
    await Promise.resolve();
    for (let i = 0; i < 3; i++) confirmations.numeric('404', ['alice', '#closed', 'Cannot send to channel']);
    confirmations.pong('parley-sent-1');
    expect(await long).toMatch(/^no-route: /);
    expect(await next).toBe('sent');
  });

  it('ignores PONGs that are not its own and numerics that refuse nothing', async () => {
    const { confirmations, outcome } = setup();
    const p = outcome(confirmations.confirm('bob', 1));
    await Promise.resolve();
    expect(confirmations.pong('irc.example.net')).toBe(false);
    expect(confirmations.pong(undefined)).toBe(false);
    expect(confirmations.pong('parley-sent-x')).toBe(false);
    confirmations.numeric('433', ['alice', 'bob', 'Nickname is already in use']);
    confirmations.numeric('401', ['alice']);
    confirmations.closed();
    expect(await p).toBe('send-failed: The connection closed before the IRC server confirmed the message: it may not have arrived');
  });

  it('with echo-message and no labels, an echo matches the oldest unanswered message with that target and text, and gives it its msgid', async () => {
    const { confirmations } = setup();
    const first = confirmations.confirm('#chan', 2, ['one', 'two']);
    const second = confirmations.confirm('#Chan', 1, ['one']);
    await Promise.resolve();
    expect(confirmations.echo('#chan', 'three', 'x', 1)).toBe(false);
    expect(confirmations.echo('#other', 'one', 'x', 1)).toBe(false);
    expect(confirmations.echo('#CHAN', 'one', 'm1', 10)).toBe(true);
    expect(confirmations.echo('#chan', 'two', 'm2', 11)).toBe(true);
    expect(confirmations.echo('#chan', 'one', 'm3', 12)).toBe(true);
    // A fourth copy is not an echo of ours: it is someone else's (another client of the account).
    expect(confirmations.echo('#chan', 'one', 'm4', 13)).toBe(false);
    confirmations.pong('parley-sent-1');
    expect(await first).toEqual({ msgid: 'm1', time: 10 });
    expect(await second).toEqual({ msgid: 'm3', time: 12 });
  });
});
