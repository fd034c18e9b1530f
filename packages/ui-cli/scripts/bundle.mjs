// Bundles the command line (tsc's output, from dist/cli/entry.js) into one
// CommonJS file, dist/bin/parley.js: the `parley` binary. Node loads an ES
// module graph file by file (resolve, read, compile, link each), and its ES
// module loader is itself dozens of internal modules to start; the ~45
// modules a `parley send` through a running owner used to load cost it more
// than the send itself. One CommonJS file loads in one go (dist/bin holds a
// package.json saying so; the rest of the package stays ES modules).
//
// What stays outside, loaded only by the commands that need it:
// - `@parley/core` (the core itself, its owner lock and socket server): only
//   a process that runs a core imports it, by dynamic import;
// - the interactive client (dist/tui/run.js, with ink and React), which the
//   bundle imports as tsc emitted it.
// The client side of `@parley/core/remote` is inside. It must not use
// import.meta (its location would be the bundle's, not the core's): the
// build fails if it does, as it does if the bundle requires anything but
// Node's own modules.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const INTERACTIVE = '../tui/run.js';
const builtins = new Set(builtinModules);
const isBuiltin = (id) => id.startsWith('node:') || builtins.has(id);

const bundle = await rolldown({
  input: `${dist}cli/entry.js`,
  platform: 'node',
  logLevel: 'warn',
  external: (id) => isBuiltin(id) || id === '@parley/core' || id === INTERACTIVE,
});
const { output } = await bundle.generate({ format: 'cjs', codeSplitting: false, banner: '#!/usr/bin/env node' });
await bundle.close();

const problems = [];
const [chunk] = output;
if (output.length !== 1 || chunk.type !== 'chunk') problems.push(`expected one file, got ${output.map((o) => o.fileName).join(', ')}`);
// What the file holds (modules tree-shaking left something of), and what it still imports.
for (const [id, module] of Object.entries(chunk.modules)) {
  if (module.renderedLength === 0) continue;
  if (/[\\/]core[\\/]dist[\\/]/.test(id) && module.code?.includes('import.meta')) problems.push(`${id} uses import.meta, which would point at the bundle`);
  if (/[\\/]node_modules[\\/](vscode-jsonrpc|better-sqlite3|ink|react)[\\/]/.test(id)) problems.push(`${id} is in the bundle: only a process running a core needs it`);
}
for (const [, id] of chunk.code.matchAll(/\brequire\(\s*["']([^'"]+)["']\s*\)/g)) if (!isBuiltin(id)) problems.push(`require of ${id}: it would load with every command`);
for (const [, id] of chunk.code.matchAll(/\bimport\(\s*["']([^'"]+)["']\s*\)/g)) if (!isBuiltin(id) && id !== '@parley/core' && id !== INTERACTIVE) problems.push(`dynamic import of ${id} left outside the bundle`);
if (!existsSync(new URL(INTERACTIVE, `file://${dist}bin/`))) problems.push(`${INTERACTIVE} (the interactive client) is missing next to the bundle`);
if (problems.length > 0) {
  console.error(`ui-cli bundle: ${problems.join('\n  ')}`);
  process.exit(1);
}
// Written only when it changed, and by rename: tests build before they run, several at
// once, and a `parley` starting meanwhile must never read a half-written file.
function replace(path, text, mode) {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(`${path}.tmp-${process.pid}`, text, { mode });
  renameSync(`${path}.tmp-${process.pid}`, path);
}
mkdirSync(`${dist}bin`, { recursive: true });
replace(`${dist}bin/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`, 0o644);
replace(`${dist}bin/parley.js`, chunk.code, 0o755);
chmodSync(`${dist}bin/parley.js`, 0o755);
