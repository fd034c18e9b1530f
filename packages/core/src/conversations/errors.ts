import type { ConversationErrorCode } from '../errors/codes.js';
import { ParleyError } from '../errors/ParleyError.js';

/** A conversation that does not exist, is not a group chat, or an operation the protocol lacks. */
export class ConversationError extends ParleyError {
  declare readonly code: ConversationErrorCode;
  constructor(code: ConversationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** @deprecated Renamed ConversationError. */
export const ConversationManagerError = ConversationError;
/** @deprecated Renamed ConversationError. */
export type ConversationManagerError = ConversationError;
