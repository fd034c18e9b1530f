#!/usr/bin/env node
// The command line's entry. The build bundles it into dist/bin/parley.js, the
// `parley` binary (scripts/bundle.mjs): one file, so a client of a running
// owner starts without loading dozens of modules.
import { main } from '../cli/main.js';
import { processIo } from '../cli/io.js';

const code = await main(process.argv.slice(2), processIo());
// Exit once everything written has reached the terminal or the pipe; a
// plugin's stray timer must not keep a finished command alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
