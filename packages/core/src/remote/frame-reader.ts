// LSP framing (`Content-Length` headers, then a JSON body) for the remote
// protocol, with no dependency: the owner's server adapts it to its JSON-RPC
// library, and a client reads with it directly, so a script that talks to the
// owner loads nothing else.
import { RPC_ERRORS } from './protocol.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER_BYTES = 8 * 1024;

export interface Rejection {
  /** The request's id when it could be read, else null (JSON-RPC 2.0 §5). */
  id: string | number | null;
  code: number;
  message: string;
  /** The stream cannot be followed any further: the connection is closed after the answer. */
  fatal: boolean;
}

/** One JSON-RPC 2.0 object: a request, a notification or a response. */
export type JsonRpcMessage = Record<string, unknown> & { jsonrpc: '2.0' };

/**
 * Splits a byte stream into JSON-RPC messages, refusing what a JSON-RPC
 * library would take blindly: a message larger than `maxBytes` (it would be
 * buffered whole), a body that is not JSON, or JSON that is not a JSON-RPC 2.0
 * message. Each refusal is handed to `reject` so the peer gets an error
 * answer; only an unreadable frame stops the reader (`fatal`).
 */
export class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private bodyLength = -1;
  private stopped = false;

  constructor(
    private readonly maxBytes: number,
    private readonly deliver: (message: JsonRpcMessage) => void,
    private readonly reject: (rejection: Rejection) => void,
  ) {}

  private fail(code: number, message: string): void {
    this.stopped = true;
    this.buffer = Buffer.alloc(0);
    this.reject({ id: null, code, message, fatal: true });
  }

  /** Takes the next bytes from the stream; complete messages are delivered at once, in order. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.bodyLength < 0) {
        const end = this.buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffer.length > MAX_HEADER_BYTES) this.fail(RPC_ERRORS.invalidRequest, 'Header too long');
          return;
        }
        const length = contentLength(this.buffer.subarray(0, end).toString('ascii'));
        if (length === undefined) return this.fail(RPC_ERRORS.invalidRequest, 'Every message needs a Content-Length header');
        if (length > this.maxBytes) return this.fail(RPC_ERRORS.messageTooLarge, `Message of ${length} bytes is over the limit of ${this.maxBytes}`);
        this.bodyLength = length;
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
      }
      if (this.buffer.length < this.bodyLength) return;
      const body = this.buffer.subarray(0, this.bodyLength);
      this.buffer = this.buffer.subarray(this.bodyLength);
      this.bodyLength = -1;
      const message = this.parse(body);
      if (message !== undefined) this.deliver(message);
      if (this.stopped) return;
    }
  }

  private parse(body: Buffer): JsonRpcMessage | undefined {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      this.reject({ id: null, code: RPC_ERRORS.parseError, message: 'Parse error: the body is not JSON', fatal: false });
      return undefined;
    }
    const record = value as Record<string, unknown> | null;
    const id = typeof record?.id === 'string' || typeof record?.id === 'number' ? record.id : null;
    if (typeof record !== 'object' || record === null || Array.isArray(record) || record.jsonrpc !== '2.0') {
      this.reject({ id, code: RPC_ERRORS.invalidRequest, message: 'Invalid request: expected one JSON-RPC 2.0 object (batches are not supported)', fatal: false });
      return undefined;
    }
    const isRequestOrNotification = typeof record.method === 'string';
    const isResponse = 'result' in record || 'error' in record;
    if (!isRequestOrNotification && !isResponse) {
      this.reject({ id, code: RPC_ERRORS.invalidRequest, message: 'Invalid request: no method', fatal: false });
      return undefined;
    }
    if (record.params !== undefined && (typeof record.params !== 'object' || record.params === null)) {
      this.reject({ id, code: RPC_ERRORS.invalidRequest, message: 'Invalid request: params must be an array or an object', fatal: false });
      return undefined;
    }
    return record as JsonRpcMessage;
  }
}

function contentLength(headers: string): number | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,12}$/.test(value)) return undefined;
    return Number(value);
  }
  return undefined;
}

/** One message as it goes on the wire. */
export function frame(message: JsonRpcMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}
