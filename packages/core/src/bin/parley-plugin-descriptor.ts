#!/usr/bin/env node
// Writes the `parley` field of package.json from the plugin's built descriptor
// (dist/descriptor.js). Usage: parley-plugin-descriptor [--check] [package-dir ...]
// With --check it writes nothing and exits 1 when a package.json is stale.
import { syncManifestField } from '../plugins/descriptor-file.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const dirs = args.filter((a) => a !== '--check');
let stale = 0;
try {
  for (const dir of dirs.length === 0 ? ['.'] : dirs) {
    const { packageJson, changed } = await syncManifestField(dir, { check });
    if (!changed) continue;
    stale += 1;
    process.stderr.write(check ? `${packageJson}: the "parley" field differs from the descriptor; run the build and commit it\n` : `${packageJson}: "parley" field updated from the descriptor\n`);
  }
} catch (error) {
  process.stderr.write(`parley-plugin-descriptor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
process.exit(check && stale > 0 ? 1 : 0);
