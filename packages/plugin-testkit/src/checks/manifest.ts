import { describe, expect, it } from 'vitest';
import { CORE_API_VERSION, parseManifest } from '@parley/core';
import semver from 'semver';
import type { Lab } from '../lab.js';

/** The package.json manifest is what a UI reads before the code is imported: it must say what the code does. */
export function manifestChecks(lab: Lab, packageJson: unknown): void {
  describe('manifest', () => {
    it('declares the same id, options and capabilities as the plugin object, for a core API range this core meets', () => {
      const manifest = parseManifest(packageJson);
      const { plugin } = lab;
      expect(manifest.kind).toBe('protocol');
      expect(manifest.id).toBe(plugin.id);
      expect(manifest.name).toBe(plugin.name);
      expect(Object.keys(manifest.options).sort()).toEqual(Object.keys(plugin.options).sort());
      expect(manifest.capabilities).toEqual(plugin.capabilities);
      const commands = (plugin.commands ?? []).map((c) => c.name).sort();
      expect(manifest.commands.map((c) => c.name).sort()).toEqual(commands);
      expect(semver.satisfies(CORE_API_VERSION, manifest.coreApi), `core API ${CORE_API_VERSION} is outside ${manifest.coreApi}`).toBe(true);
    });
  });
}
