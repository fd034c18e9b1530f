import type { TransferErrorCode } from '../errors/codes.js';
import { ParleyError } from '../errors/ParleyError.js';

/** A file transfer that could not start, was refused, or broke; the code says which. */
export class TransferError extends ParleyError {
  declare readonly code: TransferErrorCode;
  constructor(code: TransferErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
