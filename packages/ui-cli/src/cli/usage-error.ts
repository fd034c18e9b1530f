/** The command line itself is wrong; the message says how. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(
    message: string,
    /** The command whose help to point at. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
