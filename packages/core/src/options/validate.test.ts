import { describe, expect, it } from 'vitest';
import type { OptionSchema } from './schema.js';
import { assertValidSchema, missingRequired, validateSettings } from './validate.js';

const schema: OptionSchema = {
  server: { kind: 'string', label: 'Server', pattern: '[a-z0-9.-]+(:\\d+)?' },
  port: { kind: 'integer', label: 'Port', min: 1, max: 65535, default: 5222 },
  tls: { kind: 'boolean', label: 'TLS', default: true },
  transport: { kind: 'choice', label: 'Transport', choices: [{ value: 'tls', label: 'TLS' }, { value: 'tcp', label: 'TCP' }], default: 'tls' },
  useragent: { kind: 'choice', label: 'UA', choices: [{ value: 'A/1', label: 'A' }], allowCustom: true },
  channels: { kind: 'string-list', label: 'Channels' },
  password: { kind: 'secret', label: 'Password', required: true },
};

describe('validateSettings', () => {
  it('fills defaults, coerces text from forms and command lines, and separates secrets', () => {
    const { settings, secrets } = validateSettings(schema, { port: '6697', tls: 'off', channels: '#a, #b', password: 'pw', useragent: 'Custom/2' });
    expect(settings).toEqual({ port: 6697, tls: false, transport: 'tls', channels: ['#a', '#b'], useragent: 'Custom/2' });
    expect(secrets).toEqual({ password: 'pw' });
  });

  it.each([
    [{ port: 0 }, 'port', /at least 1/],
    [{ port: 1.5 }, 'port', /whole number/],
    [{ port: '80; rm -rf /' }, 'port', /whole number/],
    [{ tls: 'maybe' }, 'tls', /true or false/],
    [{ transport: 'udp' }, 'transport', /one of tls, tcp/],
    [{ server: 'evil.com\r\nInjected: 1' }, 'server', /control characters/],
    [{ server: 'not a host!' }, 'server', /invalid value/],
    [{ server: 'x'.repeat(5000) }, 'server', /longer than/],
    [{ useragent: 'bad\nua' }, 'useragent', /one of/],
    [{ channels: ['#ok', 42] }, 'channels', /list of text/],
    [{ unknown: 1 }, 'unknown', /not an option/],
  ])('rejects %j naming the key', (input, key, why) => {
    expect(() => validateSettings(schema, input as Record<string, unknown>)).toThrowError(expect.objectContaining({ code: 'invalid-settings', field: key, message: expect.stringMatching(why) }));
  });

  it('refuses a __proto__ key from a config file without polluting anything', () => {
    expect(() => validateSettings(schema, JSON.parse('{"__proto__": {"polluted": true}, "port": 5}'))).toThrowError(expect.objectContaining({ field: '__proto__' }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lists required options without a value', () => {
    const { settings } = validateSettings(schema, {});
    expect(missingRequired(schema, settings, new Set())).toEqual(['password']);
    expect(missingRequired(schema, settings, new Set(['password']))).toEqual([]);
  });

  it('checks schemas that come from package.json', () => {
    expect(() => assertValidSchema({ a: { kind: 'string', label: 'A' } }, 'p')).not.toThrow();
    expect(() => assertValidSchema({ a: { kind: 'colour', label: 'A' } }, 'p')).toThrow(/needs a known kind/);
    expect(() => assertValidSchema({ a: { kind: 'choice', label: 'A' } }, 'p')).toThrow(/needs choices/);
    expect(() => assertValidSchema([], 'p')).toThrow(/must be an object/);
  });
});
