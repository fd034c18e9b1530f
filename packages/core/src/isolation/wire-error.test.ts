import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConnectionError, CONNECTION_REASONS } from '../errors/ConnectionError.js';
import { MessageError, ParleyError, PluginError } from '../errors/ParleyError.js';
import { CommandError } from '../commands/registry.js';
import { fromWireError, toWireError, type WireError } from './wire-error.js';

/** What a MessagePort does to a value. */
function acrossThreads<T>(value: T): T {
  return structuredClone(value);
}

describe('errors across a thread boundary', () => {
  it('a ConnectionError arrives as a ConnectionError with its reason, fatality and server text', () => {
    const sent = ConnectionError.clientRejected('Your client is too old', { protocolDetail: 465, hint: 'update it' });
    const got = fromWireError(acrossThreads(toWireError(sent)));
    expect(ConnectionError.is(got)).toBe(true);
    expect(got).toBeInstanceOf(ConnectionError);
    const c = got as ConnectionError;
    expect(c.reason).toBe('client-rejected');
    expect(c.code).toBe('connection-client-rejected');
    expect(c.fatal).toBe(true);
    expect(c.serverText).toBe('Your client is too old');
    expect(c.protocolDetail).toBe(465);
    expect(c.hint).toBe('update it');
  });

  it('keeps an overridden fatality and the cause chain', () => {
    const sent = ConnectionError.network('reset', { fatal: true, cause: new PluginError('plugin-load-failed', 'x', 'inner') });
    const got = fromWireError(acrossThreads(toWireError(sent))) as ConnectionError;
    expect(got.fatal).toBe(true);
    expect(got.cause).toBeInstanceOf(PluginError);
    expect((got.cause as PluginError).plugin).toBe('x');
  });

  it('rebuilds other ParleyErrors by their code', () => {
    expect((fromWireError(toWireError(new MessageError('no-route', 'offline'))) as MessageError).code).toBe('no-route');
    expect(fromWireError(toWireError(new CommandError('command-usage', 'usage')))).toBeInstanceOf(CommandError);
  });

  it('a plain Error stays a plain Error, and a thrown non-error becomes one', () => {
    const got = fromWireError(toWireError(new TypeError('bad')));
    expect(ParleyError.isParleyError(got)).toBe(false);
    expect(got.message).toBe('bad');
    expect(fromWireError(toWireError('a string')).message).toBe('a string');
  });

  it('hostile wire data never yields a wrong type or throws', () => {
    const wire = fc.record(
      {
        kind: fc.constantFrom('ConnectionError', 'PluginError', 'Error', 'Nope', '__proto__'),
        code: fc.string(),
        message: fc.string(),
        reason: fc.oneof(fc.constantFrom(...Object.keys(CONNECTION_REASONS)), fc.string(), fc.constant('__proto__')),
        fatal: fc.boolean(),
      },
      { requiredKeys: ['kind', 'message'] },
    );
    fc.assert(
      fc.property(wire, (w) => {
        const error = fromWireError(w as WireError);
        expect(error).toBeInstanceOf(Error);
        if (error instanceof ConnectionError) expect(Object.keys(CONNECTION_REASONS)).toContain(error.reason);
        if (w.kind === 'PluginError' && error instanceof PluginError) expect(error.code.startsWith('plugin-')).toBe(true);
      }),
    );
  });
});
