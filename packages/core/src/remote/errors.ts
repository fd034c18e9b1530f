import { ParleyError } from '../errors/ParleyError.js';

export type RemoteErrorCode =
  /** No process owns this home: nothing listens on its socket. */
  | 'owner-not-running'
  /** The owner went away while a client was talking to it (killed, crashed, stopped). */
  | 'core-stopped'
  /** Another process already owns this home. */
  | 'owner-exists'
  /** The owner speaks another major version of the protocol. */
  | 'protocol-mismatch'
  /** The socket's directory belongs to someone else or is open to others. */
  | 'socket-insecure'
  /** The home's path is too long for a Unix socket path. */
  | 'socket-path-too-long';

/** Talking to the process that owns a home's accounts. */
export class RemoteError extends ParleyError {
  constructor(code: RemoteErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
