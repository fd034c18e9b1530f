#!/usr/bin/env node
// A committed launcher, so npm links the command at install time even before the
// package is built (it skips a bin whose file does not exist yet).
import '../dist/bin/parley-plugin-descriptor.js';
