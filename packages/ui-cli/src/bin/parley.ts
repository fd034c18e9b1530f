#!/usr/bin/env node
import { main } from '../cli/main.js';
import { processIo } from '../cli/io.js';

const code = await main(process.argv.slice(2), processIo());
// Exit once everything written has reached the terminal or the pipe; a
// plugin's stray timer must not keep a finished command alive.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
