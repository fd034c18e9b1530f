import type { RemoteErrorCode } from '../errors/codes.js';
import { ParleyError } from '../errors/ParleyError.js';

export type { RemoteErrorCode } from '../errors/codes.js';

/** Talking to the process that owns a home's accounts. */
export class RemoteError extends ParleyError {
  declare readonly code: RemoteErrorCode;
  constructor(code: RemoteErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
