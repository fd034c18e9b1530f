import type { Socket } from 'node:net';
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type MessageReader } from 'vscode-jsonrpc/node.js';
import { FrameReader, type Rejection } from './frame-reader.js';

export type { Rejection } from './frame-reader.js';

/** The owner's side: the framing reader, as the JSON-RPC library's message reader. */
export class BoundedMessageReader extends AbstractMessageReader implements MessageReader {
  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly reject: (rejection: Rejection) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const frames = new FrameReader(this.maxBytes, (message) => callback(message as unknown as Message), this.reject);
    const onData = (chunk: Buffer) => frames.push(chunk);
    const onError = (error: Error) => this.fireError(error);
    const onClose = () => this.fireClose();
    this.socket.on('data', onData);
    this.socket.on('error', onError);
    this.socket.on('close', onClose);
    return Disposable.create(() => {
      this.socket.off('data', onData);
      this.socket.off('error', onError);
      this.socket.off('close', onClose);
    });
  }
}
