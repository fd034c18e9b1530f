// The command line's entry. The build bundles it into dist/bin/parley.js, the
// `parley` binary (scripts/bundle.mjs): one CommonJS file, so a client of a
// running owner starts without Node's ES module loader and without loading
// dozens of modules. (No top-level await: CommonJS has none.)
import { main } from './main.js';
import { processIo } from './io.js';

void main(process.argv.slice(2), processIo()).then((code) => {
  // Exit once everything written has reached the terminal or the pipe; a
  // plugin's stray timer must not keep a finished command alive.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
