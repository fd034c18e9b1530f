import { readFileSync } from 'node:fs';
import { manifestField, parseManifest } from '@parley/core';
import { describe, expect, it } from 'vitest';
import twitterPlugin, { descriptor } from './index.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as unknown;

describe('package manifest', () => {
  it('is what the build generates from the descriptor (run the build and commit package.json when this fails)', () => {
    expect((pkg as { parley?: unknown }).parley).toEqual(manifestField(descriptor));
    expect(parseManifest(pkg).id).toBe(twitterPlugin.id);
    expect(twitterPlugin.options).toBe(descriptor.options);
  });

  it('checks usernames as X handles', () => {
    expect(twitterPlugin.validateUsername?.('@alice_01')).toBeUndefined();
    expect(twitterPlugin.validateUsername?.('alice bob')).toMatch(/letters/);
    expect(twitterPlugin.validateUsername?.('a'.repeat(16))).toMatch(/letters/);
  });
});
