import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifest, validateSettings } from '@parley/core';
import plugin from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('package.json manifest', () => {
  it('is accepted by the core and matches the code', () => {
    const manifest = parseManifest(pkg);
    expect(manifest.id).toBe(plugin.id);
    expect(manifest.options).toEqual(JSON.parse(JSON.stringify(plugin.options)));
    expect(manifest.capabilities).toEqual(plugin.capabilities);
    expect(manifest.commands.map((c) => c.name)).toEqual(plugin.commands!.map((c) => c.name));
  });

  it('declares the passwords as secrets, never settings', () => {
    expect(plugin.options.password?.kind).toBe('secret');
    expect(plugin.options.serverPassword?.kind).toBe('secret');
  });

  it('accepts typical settings', () => {
    expect(() => validateSettings(plugin.options, { port: 6697, tls: true, autoJoin: ['#parley'] })).not.toThrow();
  });
});
