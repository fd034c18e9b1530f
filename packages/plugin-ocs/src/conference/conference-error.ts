import { ParleyError } from '@parley/core';

/** A conference could not be created, joined or used; `status` is the SIP status when there was one. */
export class ConferenceError extends ParleyError {
  declare readonly code: 'ocs-conference-failed';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('ocs-conference-failed', message, options);
  }
}
