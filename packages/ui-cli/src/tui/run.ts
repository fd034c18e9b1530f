import { EXIT } from '../cli/exit-codes.js';
import type { CliIo } from '../cli/io.js';

/** Placeholder until the interactive client lands. */
export async function runInteractive(io: CliIo): Promise<number> {
  io.stderr.write('parley: the interactive client is not available yet\n');
  return EXIT.failure;
}
