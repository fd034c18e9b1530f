import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestField, parseManifest, validateSettings } from '@parley/core';
import plugin, { descriptor } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('package.json manifest', () => {
  it('is what the build generates from the descriptor (run the build and commit package.json when this fails)', () => {
    expect(pkg.parley).toEqual(manifestField(descriptor));
  });

  it('is accepted by the core and the plugin is built from the same descriptor', () => {
    const manifest = parseManifest(pkg);
    expect(manifest.id).toBe(plugin.id);
    expect(plugin.options).toBe(descriptor.options);
    expect(plugin.commands!.map((c) => c.name)).toEqual(descriptor.commands.map((c) => c.name));
  });

  it('declares the passwords as secrets, never settings', () => {
    expect(plugin.options.password?.kind).toBe('secret');
    expect(plugin.options.serverPassword?.kind).toBe('secret');
  });

  it('accepts typical settings', () => {
    expect(() => validateSettings(plugin.options, { port: 6697, tls: true, autoJoin: ['#parley'] })).not.toThrow();
  });
});
