import { ParleyError } from '../errors/ParleyError.js';

export class ConversationManagerError extends ParleyError {
  constructor(code: 'unknown-conversation' | 'not-a-chat' | 'not-supported', message: string) {
    super(code, message);
  }
}
