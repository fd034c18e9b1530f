// The light entry point: `parley --help` and every client of a running owner load no core.
import { defineErrorCodes, ParleyError } from '@parley/core/remote';

/** The command line itself is wrong; the message says how. */
export class UsageError extends ParleyError {
  declare readonly code: 'usage';
  constructor(
    message: string,
    /** The command whose help to point at. */
    readonly command?: string,
  ) {
    super('usage', message);
  }
}

/** The codes of the terminal client's own errors (besides the core's and the plugins'). */
export const CLI_ERROR_CODES = defineErrorCodes<'usage'>({
  usage: { class: 'UsageError', fatal: true, when: 'The command line is wrong: an unknown command or option, a missing argument.', action: 'Run the command with --help for its usage.' },
});
