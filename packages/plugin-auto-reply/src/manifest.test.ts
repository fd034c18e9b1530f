import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestField, parseManifest } from '@parley/core';
import { descriptor } from './index.js';

describe('package manifest', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { parley?: unknown };
  it('is what the build generates from the descriptor (run the build and commit package.json when this fails)', () => {
    expect(pkg.parley).toEqual(manifestField(descriptor));
    expect(parseManifest(pkg).kind).toBe('feature');
  });
});
