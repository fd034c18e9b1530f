#!/usr/bin/env node
// Checks the API reference without writing it: TypeDoc reads every package's
// public entry point with the options of typedoc.json (what `npm run docs:api`
// writes to docs/api) and fails on any warning: an export without a doc
// comment, a broken {@link}, a public signature using a type its package does
// not export. Reads the built declarations of @parley/core (run
// `npm run compile` first). `npm test` runs it beside vitest (scripts/test.mjs).
// Usage: node scripts/api-docs-check.mjs
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const typedoc = fileURLToPath(new URL('../node_modules/typedoc/bin/typedoc', import.meta.url));

/**
 * Runs the check; resolves with whether it passed and what TypeDoc said.
 * `--emit none`: validation only. `--skipErrorChecking`: tsc has already
 * type-checked the same sources. `--disableSources`: no source links to
 * find, so no git calls.
 */
export function checkApiDocs() {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [typedoc, '--emit', 'none', '--skipErrorChecking', '--disableSources', '--logLevel', 'Warn'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ ok: false, output: `Cannot run TypeDoc: ${error.message}\n`, seconds: 0 }));
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - started) / 1000;
      resolve({ ok: code === 0, output: signal === null ? output : `${output}TypeDoc ended by ${signal}\n`, seconds });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { ok, output, seconds } = await checkApiDocs();
  process.stderr.write(output);
  process.stderr.write(ok ? `API reference: every export documented, no warnings (${seconds.toFixed(1)} s)\n` : 'API reference check failed: fix the warnings above\n');
  process.exit(ok ? 0 : 1);
}
