import { connect, type Socket } from 'node:net';

/** A raw JSON-RPC peer on a Unix socket, speaking the LSP framing by hand, to send what no library would. */
export class RawRpc {
  private buffer = Buffer.alloc(0);
  readonly messages: Array<Record<string, any>> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
        if (this.buffer.length < end + 4 + length) return;
        this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as Record<string, any>);
        this.buffer = this.buffer.subarray(end + 4 + length);
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<RawRpc> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawRpc(socket)));
      socket.once('error', reject);
    });
  }

  sendBody(body: string | Buffer): void {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.socket.write(Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`), bytes]));
  }

  send(message: Record<string, unknown>): void {
    this.sendBody(JSON.stringify({ jsonrpc: '2.0', ...message }));
  }

  async next(what = 'an answer', ms = 10_000): Promise<Record<string, any>> {
    const deadline = Date.now() + ms;
    while (this.messages.length === 0) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages.shift()!;
  }

  /** Waits for the answer to request `id`, skipping notifications. */
  async answer(id: number | string): Promise<Record<string, any>> {
    for (;;) {
      const message = await this.next(`the answer to ${id}`);
      if (message.id === id) return message;
    }
  }

  async waitClosed(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the connection stayed open');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
