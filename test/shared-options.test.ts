/**
 * IRC, XMPP and OCS declare where and how to connect through the core's
 * option builders, with the option ids and defaults their stored accounts
 * were saved with: an account saved before keeps validating to the same
 * settings.
 */
import { describe, expect, it } from 'vitest';
import { validateSettings } from '@parley/core';
import { descriptor as irc } from '../packages/plugin-irc/src/descriptor.js';
import { descriptor as xmpp } from '../packages/plugin-xmpp/src/descriptor.js';
import { descriptor as ocs } from '../packages/plugin-ocs/src/descriptor.js';

const cases = [
  { plugin: irc, stored: { server: 'irc.example.net', port: 6697, tls: true }, defaults: { port: 6697, tls: true } },
  { plugin: xmpp, stored: { server: 'xmpp.example.org', port: 5223, security: 'tls' }, defaults: { server: '', port: 0, security: 'starttls' } },
  { plugin: ocs, stored: { server: 'sip.example.com:5061', transport: 'tcp' }, defaults: { transport: 'auto' } },
] as const;

describe('shared server, port and security options', () => {
  it.each(cases)('$plugin.id keeps its option ids, kinds and defaults', ({ plugin, stored, defaults }) => {
    const { settings } = validateSettings(plugin.options, {});
    for (const [key, value] of Object.entries(defaults)) expect(settings[key], key).toEqual(value);
    expect(validateSettings(plugin.options, stored).settings).toMatchObject(stored);
    for (const key of Object.keys(stored)) expect(plugin.options[key as keyof typeof plugin.options]).toMatchObject({ group: 'advanced' });
  });

  it('ports share one range, the security choices their standard wording where the protocols agree', () => {
    expect(irc.options.port).toMatchObject({ min: 1, max: 65535 });
    expect(xmpp.options.port).toMatchObject({ min: 0, max: 65535 });
    expect(xmpp.options.security.choices.find((c) => c.value === 'plain')?.label).toMatch(/unsafe/);
    expect(ocs.options.transport.choices.map((c) => c.value)).toEqual(['auto', 'tls', 'tcp']);
  });
});
