import { ParleyError } from '@parley/core';

/**
 * A conference could not be created, joined or used; `status` is the SIP
 * status when there was one. `creating`: the focus factory gave no
 * conference (a server without conferencing, as OCS 2005).
 */
export class ConferenceError extends ParleyError {
  declare readonly code: 'ocs-conference-failed';
  readonly creating: boolean;
  constructor(message: string, readonly status?: number, options?: { cause?: unknown; creating?: boolean }) {
    super('ocs-conference-failed', message, options);
    this.creating = options?.creating ?? false;
  }
}
