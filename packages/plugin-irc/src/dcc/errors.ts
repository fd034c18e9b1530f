import { ParleyError } from '@parley/core';

/** The core's transfer error codes this plugin reports. */
export type DccFailureCode = 'transfer-oversize' | 'transfer-incomplete' | 'transfer-write-failed' | 'transfer-interrupted' | 'transfer-refused-address' | 'transfer-bad-offer' | 'transfer-failed';

/** A transfer that broke, with the core's transfer code (it crosses the worker boundary by code). */
export function dccFailure(code: DccFailureCode, message: string, cause?: unknown): ParleyError {
  const error = new ParleyError(code, message, cause === undefined ? undefined : { cause });
  error.name = 'TransferError';
  return error;
}
