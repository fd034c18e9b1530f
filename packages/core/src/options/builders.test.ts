import { describe, expect, it } from 'vitest';
import { isParleyError } from '../errors/ParleyError.js';
import { CONNECTION_SECURITY_LABELS, portOption, securityOption, serverOption, tlsOption } from './builders.js';
import { assertValidSchema, validateSettings } from './validate.js';

const rejects = (run: () => unknown, field: string) => {
  try {
    run();
  } catch (error) {
    expect(isParleyError(error, 'invalid-settings') && error.field).toBe(field);
    return;
  }
  throw new Error('expected invalid-settings');
};

describe('option builders', () => {
  it('build valid specs with the common shape, keys in a fixed order', () => {
    const schema = {
      server: serverOption({ description: 'Empty: look it up', default: '' }),
      port: portOption({ default: 6697 }),
      tls: tlsOption(),
      security: securityOption({ default: 'starttls', choices: [{ value: 'starttls' }, { value: 'tls' }, { value: 'plain' }] }),
    };
    assertValidSchema(schema, 'test');
    expect(Object.keys(schema.server)).toEqual(['kind', 'label', 'description', 'group', 'default']);
    expect(schema.port).toEqual({ kind: 'integer', label: 'Port', group: 'advanced', default: 6697, min: 1, max: 65535 });
    expect(schema.tls).toEqual({ kind: 'boolean', label: 'Use TLS', group: 'advanced', default: true });
    expect(schema.security).toMatchObject({ label: 'Connection security', default: 'starttls' });
    expect((schema.security as { choices: unknown }).choices).toEqual([
      { value: 'starttls', label: CONNECTION_SECURITY_LABELS.starttls },
      { value: 'tls', label: CONNECTION_SECURITY_LABELS.tls },
      { value: 'plain', label: CONNECTION_SECURITY_LABELS.plain },
    ]);
    expect(validateSettings(schema, {}).settings).toEqual({ server: '', port: 6697, tls: true, security: 'starttls' });
  });

  it('the port is 1 to 65535, or 0 too when 0 means the default', () => {
    const strict = { port: portOption() };
    for (const bad of [0, -1, 65536, 'http', 1.5]) rejects(() => validateSettings(strict, { port: bad }), 'port');
    expect(validateSettings(strict, { port: '65535' }).settings.port).toBe(65535);
    const zero = { port: portOption({ zeroMeansDefault: true, default: 0 }) };
    expect(validateSettings(zero, { port: 0 }).settings.port).toBe(0);
    rejects(() => validateSettings(zero, { port: -1 }), 'port');
  });

  it('the security choice refuses values it does not offer, a default outside its choices, and an unlabelled unknown value', () => {
    const schema = { transport: securityOption({ label: 'Connection type', default: 'auto', choices: [{ value: 'auto' }, { value: 'tcp', label: 'TCP' }] }) };
    rejects(() => validateSettings(schema, { transport: 'starttls' }), 'transport');
    expect(() => securityOption({ default: 'plain', choices: [{ value: 'tls' }] })).toThrow(/not one of the choices/);
    expect(() => securityOption({ default: 'x', choices: [{ value: 'x' }] })).toThrow(/needs a label/);
  });

  it('a server pattern, when the plugin gives one, is enforced', () => {
    const schema = { server: serverOption({ pattern: '[^\\s]*', maxLength: 10 }) };
    rejects(() => validateSettings(schema, { server: 'a b' }), 'server');
    rejects(() => validateSettings(schema, { server: 'x'.repeat(11) }), 'server');
  });
});
