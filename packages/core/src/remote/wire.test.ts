import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ConnectionError } from '../errors/ConnectionError.js';
import { ConfigError } from '../errors/ParleyError.js';
import { checkParams } from './protocol.js';
import { errorToWire, fromWire, toWire } from './wire.js';

describe('values across the socket', () => {
  it('carries a ConnectionError with its reason, fatality, server text and hint, and no cause or stack', () => {
    const original = ConnectionError.clientRejected('Client version too old', { hint: 'update', protocolDetail: 403, cause: new Error('secret detail') });
    const wire = JSON.parse(JSON.stringify(toWire({ error: original }))) as unknown;
    expect(JSON.stringify(wire)).not.toContain('secret detail');
    const back = (fromWire(wire) as { error: ConnectionError }).error;
    expect(ConnectionError.is(back)).toBe(true);
    expect(back).toMatchObject({ code: 'connection-client-rejected', reason: 'client-rejected', fatal: true, serverText: 'Client version too old', hint: 'update', protocolDetail: 403 });
  });

  it('carries other Parley errors by code with their fields, and hides what anything else was', () => {
    const back = fromWire(JSON.parse(JSON.stringify(toWire(new ConfigError('unknown-account', 'No account x', 'account'))))) as { code: string; field: string };
    expect(back).toMatchObject({ code: 'unknown-account', field: 'account', message: 'No account x' });
    expect(errorToWire(new TypeError('boom'))).toEqual({ name: 'Error', code: 'internal-error', message: 'boom' });
  });

  it('rebuilds Maps, drops functions and undefined, and survives any JSON value', () => {
    const value = { participants: new Map([['bob', { nick: 'bob' }]]), fn: () => 1, gone: undefined, n: Number.NaN };
    const back = fromWire(JSON.parse(JSON.stringify(toWire(value)))) as Record<string, unknown>;
    expect(back.participants).toEqual(new Map([['bob', { nick: 'bob' }]]));
    expect(back).not.toHaveProperty('fn');
    expect(back).not.toHaveProperty('gone');
    expect(back.n).toBeNull();
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        fromWire(json);
        expect(fromWire(toWire(json))).toEqual(fromWire(json));
      }),
    );
  });

  it('checks arguments against their declared kinds', () => {
    expect(checkParams(['string', 'object?'], ['a'])).toBeUndefined();
    expect(checkParams(['string', 'object?'], ['a', { x: 1 }])).toBeUndefined();
    expect(checkParams(['string'], [])).toBe('argument 1 is missing');
    expect(checkParams(['string'], [1])).toBe('argument 1 must be a string');
    expect(checkParams(['object'], [[1]])).toBe('argument 1 must be an object');
    expect(checkParams(['string'], ['a', 'b'])).toBe('takes at most 1 argument');
  });
});
