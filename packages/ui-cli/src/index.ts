// parley, the terminal client: its entry points, for embedding and tests.
export { main, exitCodeFor } from './cli/main.js';
export { EXIT, type ExitCode } from './cli/exit-codes.js';
export { UsageError, CLI_ERROR_CODES } from './cli/usage-error.js';
export type { CliIo, CliInput, CliOutput } from './cli/io.js';
