import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { CommandError } from '../commands/registry.js';
import { ConversationError, ConversationManagerError } from '../conversations/errors.js';
import { RemoteError } from '../remote/errors.js';
import { TransferError } from '../transfers/errors.js';
import { IconError } from '../buddies/icons.js';
import { CORE_ERROR_CODES, type CoreErrorCode } from './codes.js';
import { CONNECTION_ERROR_CODES, CONNECTION_REASONS, ConnectionError } from './ConnectionError.js';
import { ConfigError, HistoryError, isParleyError, MessageError, ParleyError, PluginError, SecretStoreError } from './ParleyError.js';
import { reviveParleyError } from './revive.js';

/** One error of every core class and code. */
function everyCoreError(): ParleyError[] {
  const errors: ParleyError[] = [];
  for (const [code, info] of Object.entries(CORE_ERROR_CODES) as [CoreErrorCode, (typeof CORE_ERROR_CODES)[CoreErrorCode]][]) {
    for (const cls of typeof info.class === 'string' ? [info.class] : info.class) {
      const c = code as never;
      switch (cls) {
        case 'ConnectionError': errors.push(new ConnectionError(code.slice('connection-'.length) as never, 'm')); break;
        case 'ConfigError': errors.push(new ConfigError(c, 'm', 'server')); break;
        case 'PluginError': errors.push(new PluginError(c, 'p', 'm')); break;
        case 'HistoryError': errors.push(new HistoryError(c, 'm')); break;
        case 'SecretStoreError': errors.push(new SecretStoreError(c, 'm')); break;
        case 'MessageError': errors.push(new MessageError(c, 'm')); break;
        case 'CommandError': errors.push(new CommandError(c, 'm')); break;
        case 'ConversationError': errors.push(new ConversationError(c, 'm')); break;
        case 'RemoteError': errors.push(new RemoteError(c, 'm')); break;
        case 'TransferError': errors.push(new TransferError(c, 'm')); break;
        case 'IconError': errors.push(new IconError(c, 'm')); break;
        case 'RemoteParleyError': break; // built only from the wire (remote/wire.test.ts)
        default: throw new Error(`no case for ${cls}`);
      }
    }
  }
  return errors;
}

describe('the core error codes', () => {
  it('lists every connection reason with its fatality', () => {
    for (const reason of Object.keys(CONNECTION_REASONS) as (keyof typeof CONNECTION_REASONS)[]) {
      expect(CORE_ERROR_CODES[`connection-${reason}`]).toMatchObject({ class: 'ConnectionError', fatal: CONNECTION_REASONS[reason].fatal });
    }
    expect([...CONNECTION_ERROR_CODES].sort()).toEqual(Object.keys(CORE_ERROR_CODES).filter((c) => c.startsWith('connection-')).sort());
  });

  it('every error of every core class carries a listed code whose entry names its class', () => {
    const errors = everyCoreError();
    expect(errors.length).toBeGreaterThan(40);
    for (const error of errors) {
      expect(isParleyError(error)).toBe(true);
      const info = CORE_ERROR_CODES[error.code as CoreErrorCode];
      expect(info, error.code).toBeDefined();
      expect(typeof info.class === 'string' ? [info.class] : info.class).toContain(error.name);
      expect(info.when.length).toBeGreaterThan(10);
      expect(info.action.length).toBeGreaterThan(3);
    }
  });

  it('each error survives JSON with its class, code and fields', () => {
    for (const error of everyCoreError()) {
      const json = JSON.parse(JSON.stringify(error)) as { name: string; code: string; message: string };
      expect(json).toMatchObject({ name: error.name, code: error.code, message: 'm' });
      const back = reviveParleyError(json.name, json.code, json.message, json);
      expect(back.constructor).toBe(error.constructor);
      expect(back.toJSON()).toEqual(error.toJSON());
    }
  });
});

describe('isParleyError', () => {
  it('checks one code, several codes, or any Parley error, and narrows to the class', () => {
    const error: unknown = new PluginError('plugin-crashed', 'x', 'gone');
    expect(isParleyError(error)).toBe(true);
    expect(isParleyError(error, 'plugin-crashed')).toBe(true);
    expect(isParleyError(error, 'plugin-disabled')).toBe(false);
    expect(isParleyError(error, ['plugin-disabled', 'plugin-crashed'])).toBe(true);
    if (isParleyError(error, 'plugin-crashed')) expectTypeOf(error).toEqualTypeOf<PluginError>();
    const lost: unknown = ConnectionError.network('down');
    if (isParleyError(lost, CONNECTION_ERROR_CODES)) expectTypeOf(lost.reason).toEqualTypeOf<keyof typeof CONNECTION_REASONS>();
    const plugin: unknown = new ParleyError('irc-timeout', 'slow');
    if (isParleyError(plugin, 'irc-timeout')) expectTypeOf(plugin.code).toEqualTypeOf<'irc-timeout'>();
    expect(isParleyError(plugin, 'irc-timeout')).toBe(true);
  });

  it('is false for anything that is not a Parley error, whatever its code', () => {
    for (const value of [new Error('x'), Object.assign(new Error('x'), { code: 'plugin-crashed' }), { code: 'plugin-crashed' }, null, undefined, 'plugin-crashed', 3]) {
      expect(isParleyError(value)).toBe(false);
      expect(isParleyError(value, 'plugin-crashed')).toBe(false);
    }
  });

  it('keeps the retired checks working as aliases', () => {
    expect(ConnectionError.is(ConnectionError.network('x'))).toBe(true);
    expect(ConnectionError.is(new PluginError('plugin-crashed', 'p', 'x'))).toBe(false);
    expect(ParleyError.isParleyError(new MessageError('no-route', 'x'))).toBe(true);
    expect(ConversationManagerError).toBe(ConversationError);
    expect(new ConversationManagerError('not-a-chat', 'x').name).toBe('ConversationError');
  });
});

describe('reviving errors from plain data', () => {
  it('rebuilds a class only with a code it owns; anything else keeps name and code on a ParleyError', () => {
    expect(reviveParleyError('PluginError', 'plugin-crashed', 'm', { plugin: 'irc' })).toBeInstanceOf(PluginError);
    const wrong = reviveParleyError('PluginError', 'no-route', 'm', {});
    expect(wrong).not.toBeInstanceOf(PluginError);
    expect(isParleyError(wrong, 'no-route')).toBe(true);
    const foreign = reviveParleyError('IrcError', 'irc-server-refused', 'Cannot join', { numeric: '473', name: 'x', code: 'y', __proto__: { evil: 1 } });
    expect(foreign).toMatchObject({ name: 'IrcError', code: 'irc-server-refused', message: 'Cannot join', numeric: '473' });
    expect(foreign.toJSON()).toEqual({ name: 'IrcError', code: 'irc-server-refused', message: 'Cannot join', numeric: '473' });
    expect(reviveParleyError('ConversationManagerError', 'not-a-chat', 'm', {})).toBeInstanceOf(ConversationError);
    expect(reviveParleyError('ConnectionError', 'connection-nope', 'm', {})).not.toBeInstanceOf(ConnectionError);
  });

  it('hostile data never throws, never changes what the error is, and copies only plain values', () => {
    const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toJSON', 'name', 'code', 'message', 'stack', 'cause', 'reason', 'plugin', 'field'), fc.string({ maxLength: 8 }));
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 }));
    const name = fc.oneof(fc.constantFrom('ConnectionError', 'PluginError', 'ConfigError', 'ConversationManagerError', 'RemoteError', '__proto__', 'constructor', 'toString'), fc.string({ maxLength: 12 }));
    const code = fc.oneof(fc.constantFrom(...Object.keys(CORE_ERROR_CODES), '__proto__', 'connection-__proto__'), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(name, code, fc.string(), fc.dictionary(key, value), (n, c, message, fields) => {
        const error = reviveParleyError(n, c, message, JSON.parse(JSON.stringify(fields)) as Record<string, unknown>);
        expect(isParleyError(error, c)).toBe(true);
        expect(error.message).toBe(message);
        expect(typeof error.toJSON).toBe('function');
        for (const v of Object.values(error.toJSON())) expect(['string', 'number', 'boolean']).toContain(typeof v);
        if (error instanceof ConnectionError) expect(Object.keys(CONNECTION_REASONS)).toContain(error.reason);
      }),
    );
  });
});
