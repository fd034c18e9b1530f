import type { OptionSchema, ProtocolCapabilities } from '@parley/core';

// The same as the "parley" field of package.json: the manifest lets a UI draw the account
// form before this code is imported; the conformance suite checks that both agree.
export const options: OptionSchema = {
  password: { kind: 'secret', label: 'Password', required: true },
  host: { kind: 'string', label: 'Server', default: '127.0.0.1', group: 'advanced' },
  port: { kind: 'integer', label: 'Port', required: true, min: 1, max: 65535, group: 'advanced' },
};

export const capabilities: ProtocolCapabilities = { typing: true, statuses: ['available', 'away', 'offline'] };
