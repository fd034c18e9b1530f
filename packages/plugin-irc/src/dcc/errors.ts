import { TransferError, type TransferErrorCode } from '@parley/core';

/** A transfer that broke, with the core's transfer code. */
export function dccFailure(code: TransferErrorCode, message: string, cause?: unknown): TransferError {
  return new TransferError(code, message, cause === undefined ? undefined : { cause });
}
