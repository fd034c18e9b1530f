#!/usr/bin/env node
// The last step of `npm test`: vitest, with two checks running beside it:
// the API reference check (scripts/api-docs-check.mjs) and a type check of
// the tests themselves (tsconfig.test.json: vitest only strips their types,
// so a test calling an API with a wrong field would otherwise run and test
// less than it says). Each is about half a minute of one core; the test files
// spend most of their time waiting on the servers they start, so side by side
// they add next to nothing to the run, where before or after vitest they
// would add all of it. Arguments go to `vitest run`
// (`npm test -- packages/plugin-irc`). Fails when any fails; the checks'
// output is printed after vitest's report.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkApiDocs } from './api-docs-check.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

/** Runs `node <args>` in the repository; resolves with its exit code and, when `capture`, its output. */
function run(args, capture) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 1, output: `Cannot run ${args[0]}: ${error.message}\n`, seconds: 0 }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), output, seconds: (Date.now() - started) / 1000 }));
  });
}

const docsCheck = checkApiDocs();
const testTypes = run([tsc, '-p', 'tsconfig.test.json'], true);
const tests = await run([vitest, 'run', ...process.argv.slice(2)], false);

const docs = await docsCheck;
process.stderr.write(docs.output);
process.stderr.write(
  docs.ok
    ? `API reference: every export documented, no warnings (TypeDoc took ${docs.seconds.toFixed(1)} s beside the tests)\n`
    : 'API reference check failed: fix the warnings above (npm run docs:check runs it alone)\n',
);
const types = await testTypes;
process.stderr.write(types.output);
process.stderr.write(
  types.code === 0
    ? `Test types: every test file type-checks (tsc took ${types.seconds.toFixed(1)} s beside the tests)\n`
    : 'The tests do not type-check: fix the errors above (npm run typecheck runs it alone)\n',
);
process.exit(tests.code !== 0 ? tests.code : docs.ok && types.code === 0 ? 0 : 1);
