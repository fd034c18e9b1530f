#!/usr/bin/env node
// The last step of `npm test`: vitest, with the API reference check
// (scripts/api-docs-check.mjs) running beside it. The check is about half a
// minute of one core; the test files spend most of their time waiting on the
// servers they start, so side by side it adds next to nothing to the run,
// where before or after vitest it would add all of it. Arguments go to
// `vitest run` (`npm test -- packages/plugin-irc`). Fails when either fails;
// the check's warnings are printed after vitest's report.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkApiDocs } from './api-docs-check.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

const check = checkApiDocs();
const tests = spawn(process.execPath, [vitest, 'run', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
const testsExit = await new Promise((resolve) => {
  tests.on('error', (error) => {
    process.stderr.write(`Cannot run vitest: ${error.message}\n`);
    resolve(1);
  });
  tests.on('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
});
const docs = await check;
process.stderr.write(docs.output);
process.stderr.write(
  docs.ok
    ? `API reference: every export documented, no warnings (TypeDoc took ${docs.seconds.toFixed(1)} s beside the tests)\n`
    : 'API reference check failed: fix the warnings above (npm run docs:check runs it alone)\n',
);
process.exit(testsExit !== 0 ? testsExit : docs.ok ? 0 : 1);
