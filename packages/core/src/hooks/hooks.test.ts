import { describe, expect, it } from 'vitest';
import type { Message } from '../conversations/message.js';
import { createHooks, runMessageWaterfall, tapOnlyHooks, type HookName } from './hooks.js';

function message(text: string): Message {
  return { id: 'm1', conversationId: 'c1', accountId: 'a1', direction: 'outgoing', sender: 'me', timestamp: 1, text, flags: {} };
}

function setup() {
  const hooks = createHooks();
  const faults: Array<[string, HookName, string]> = [];
  const disabled = new Set<string>();
  const view = (name: string) => tapOnlyHooks(hooks, name, (p, h, e) => faults.push([p, h, (e as Error).message]), () => disabled.has(name));
  return { hooks, faults, disabled, view };
}

describe('tap-only hooks', () => {
  it('chains rewrites in stage order and stops at a cancel', async () => {
    const { hooks, view } = setup();
    view('second').sendingMessage.tap((m) => ({ ...m, text: `${m.text}!` }), { stage: 10 });
    view('first').sendingMessage.tap((m) => ({ ...m, text: m.text.toUpperCase() }));
    expect((await hooks.sendingMessage.promise(message('hi')))?.text).toBe('HI!');
    view('censor').sendingMessage.tap((m) => (m.text.includes('HI') ? null : undefined), { stage: 5 });
    let reached = false;
    view('late').sendingMessage.tap(() => {
      reached = true;
    }, { stage: 20 });
    expect(await hooks.sendingMessage.promise(message('hi'))).toBeNull();
    expect(reached).toBe(false);
  });

  it('waits for a tap that answers later, in order with taps that answer at once', async () => {
    const { hooks, view } = setup();
    view('now').writingToConversation.tap((m) => ({ ...m, text: `${m.text}1` }));
    view('later').writingToConversation.tap(async (m) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { ...m, text: `${m.text}2` };
    }, { stage: 1 });
    view('cancel-later').writingToConversation.tap(async (m) => (m.text === 'drop12' ? null : undefined), { stage: 2 });
    view('after').writingToConversation.tap((m) => ({ ...m, text: `${m.text}3` }), { stage: 3 });
    expect((await hooks.writingToConversation.promise(message('x')))?.text).toBe('x123');
    expect(await hooks.writingToConversation.promise(message('drop'))).toBeNull();
  });

  it('isolates a throwing or rejecting tap, names its plugin, and passes the message on', async () => {
    const { hooks, faults, view } = setup();
    view('thrower').receivingMessage.tap(() => {
      throw new Error('sync boom');
    });
    view('rejecter').receivingMessage.tap(async () => {
      throw new Error('async boom');
    });
    view('liar').receivingMessage.tap(() => 42 as unknown as Message);
    view('good').receivingMessage.tap((m) => ({ ...m, text: `${m.text} ok` }));
    expect((await hooks.receivingMessage.promise(message('x')))?.text).toBe('x ok');
    expect(faults.map(([p, h]) => `${p}@${h}`)).toEqual(['thrower@receivingMessage', 'rejecter@receivingMessage', 'liar@receivingMessage']);
    expect(faults[2]![2]).toMatch(/returned number/);
  });

  it('runs a message waterfall directly as tapable does: at once when every tap answers at once, in stage order, cancels, faults and later answers', async () => {
    const { hooks, faults, view } = setup();
    view('second').receivingMessage.tap((m) => ({ ...m, text: `${m.text}!` }), { stage: 10 });
    view('first').receivingMessage.tap((m) => ({ ...m, text: m.text.toUpperCase() }));
    view('thrower').receivingMessage.tap(() => {
      throw new Error('sync boom');
    }, { stage: 5 });
    const now = runMessageWaterfall(hooks.receivingMessage, message('hi'));
    expect(now).not.toBeInstanceOf(Promise);
    expect((now as Message).text).toBe('HI!');
    expect(faults.map(([p]) => p)).toEqual(['thrower']);

    view('later').receivingMessage.tap(async (m) => {
      await new Promise((resolve) => setImmediate(resolve));
      return m.text === 'DROP' ? null : { ...m, text: `${m.text}?` };
    }, { stage: 1 });
    let reached = 0;
    view('after-cancel').receivingMessage.tap(() => {
      reached++;
    }, { stage: 20 });
    const later = runMessageWaterfall(hooks.receivingMessage, message('hi'));
    expect(later).toBeInstanceOf(Promise);
    expect((await later)?.text).toBe('HI?!');
    expect(await runMessageWaterfall(hooks.receivingMessage, message('drop'))).toBeNull();
    expect(reached).toBe(1);
    expect((await hooks.receivingMessage.promise(message('hi')))?.text).toBe('HI?!');
  });

  it('leaves a waterfall with a tap added to tapable directly to tapable', async () => {
    const { hooks, view } = setup();
    view('plugin').writingToConversation.tap((m) => ({ ...m, text: `${m.text}1` }));
    hooks.writingToConversation.tap('direct', (m) => (m === null ? null : { ...m, text: `${m.text}2` }));
    expect((await runMessageWaterfall(hooks.writingToConversation, message('x')))?.text).toBe('x12');
  });

  it('isolates observers on sync and async hooks, and skips a disabled plugin', async () => {
    const { hooks, faults, disabled, view } = setup();
    const calls: string[] = [];
    view('bad').conversationCreated.tap(() => {
      throw new Error('observer boom');
    });
    view('good').conversationCreated.tap((c) => {
      calls.push(c.name);
    });
    hooks.conversationCreated.call({ id: '1', kind: 'im', accountId: 'a', name: 'bob' });
    expect(calls).toEqual(['bob']);
    expect(faults).toHaveLength(1);
    disabled.add('good');
    hooks.conversationCreated.call({ id: '2', kind: 'im', accountId: 'a', name: 'carol' });
    expect(calls).toEqual(['bob']);
    view('slow').accountConnecting.tap(async () => {
      throw new Error('connecting boom');
    });
    await expect(hooks.accountConnecting.promise({ id: 'a', protocol: 'p', username: 'u', alias: undefined, enabled: true })).resolves.toBeUndefined();
    expect(faults.at(-1)?.[1]).toBe('accountConnecting');
  });
});
