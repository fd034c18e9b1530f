import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { TransferError } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import type { Session } from '../session.js';
import { NS_IBB } from './namespaces.js';

/** Our block size for streams we open, and the largest we take (XEP-0047 §2.1: at most 65535). */
export const IBB_BLOCK_SIZE = 8192;
export const IBB_MAX_BLOCK_SIZE = 65535;
/** Data stanzas sent before waiting for their answers: enough to keep the pipe busy, few enough to stay polite to the server. */
const WINDOW = 8;

/**
 * Sends a file over an In-Band Bytestream (XEP-0047) the peer expects (its
 * sid came through Jingle): `<open/>`, `<data/>` IQs of base64 blocks with
 * sequence numbers, `<close/>`. Each block is read from disk as it is sent.
 */
export async function sendIbb(session: Session, to: string, sid: string, blockSize: number, path: string, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<void> {
  await session.iqSet(xml('open', { xmlns: NS_IBB, sid, 'block-size': String(blockSize), stanza: 'iq' }), to, 30_000);
  let seq = 0;
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  let failure: unknown;
  for await (const chunk of createReadStream(path, { highWaterMark: blockSize, signal }) as AsyncIterable<Buffer>) {
    if (failure !== undefined) break;
    const data = xml('data', { xmlns: NS_IBB, sid, seq: String(seq) }, chunk.toString('base64'));
    seq = (seq + 1) % 65536;
    const length = chunk.length;
    const answer: Promise<unknown> = session.iqSet(data, to, 60_000).then(
      () => {
        sent += length;
        onProgress(sent);
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
    inFlight.add(answer);
    void answer.finally(() => inFlight.delete(answer));
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw new TransferError('transfer-failed', `The peer stopped taking the in-band stream: ${String((failure as Error).message ?? failure)}`, { cause: failure });
  await session.iqSet(xml('close', { xmlns: NS_IBB, sid }), to, 30_000).catch(() => undefined);
}

/** One incoming In-Band Bytestream, fed by the IQs the connection routes to it. */
export class IbbReceiver {
  private expectedSeq = 0;
  private opened = false;
  private queue: Promise<void> = Promise.resolve();
  private received = 0;
  private failed = false;

  constructor(
    readonly peer: string,
    readonly sid: string,
    private readonly sink: Writable,
    private readonly limit: number,
    private readonly onEnd: (error?: Error, bytes?: number) => void,
  ) {}

  /** `<open/>`: the block size must be one we take. */
  open(element: Element): Element | true {
    const blockSize = Number(element.attrs['block-size']);
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > IBB_MAX_BLOCK_SIZE) return stanzaError('modify', 'resource-constraint');
    if (element.attrs.stanza !== undefined && element.attrs.stanza !== 'iq') return stanzaError('cancel', 'feature-not-implemented');
    this.opened = true;
    return true;
  }

  /** `<data/>`: answered once the block is on disk, which is the sender's flow control. */
  async data(element: Element): Promise<Element | true> {
    if (!this.opened || this.failed) return stanzaError('cancel', 'item-not-found');
    const seq = Number(element.attrs.seq);
    if (seq !== this.expectedSeq) {
      this.fail(new TransferError('transfer-failed', `The in-band stream lost a block (sequence ${seq}, expected ${this.expectedSeq})`));
      return stanzaError('cancel', 'unexpected-request');
    }
    this.expectedSeq = (this.expectedSeq + 1) % 65536;
    const text = element.getText().trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
      this.fail(new TransferError('transfer-failed', 'The in-band stream carried data that is not base64'));
      return stanzaError('modify', 'bad-request');
    }
    const chunk = Buffer.from(text, 'base64');
    this.received += chunk.length;
    if (this.received > this.limit) {
      this.fail(new TransferError('transfer-oversize', `The peer sent more than the ${this.limit} bytes it announced`));
      return stanzaError('cancel', 'not-acceptable');
    }
    const written = (this.queue = this.queue.then(() => write(this.sink, chunk)));
    try {
      await written;
    } catch (error) {
      this.fail(error as Error);
      return stanzaError('wait', 'resource-constraint');
    }
    if (this.received === this.limit) this.finish();
    return true;
  }

  /** `<close/>`: the end, early or not. */
  close(): true {
    if (this.received < this.limit) this.fail(new TransferError('transfer-incomplete', `The peer closed the in-band stream after ${this.received} of ${this.limit} bytes`));
    else this.finish();
    return true;
  }

  private ended = false;
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    void this.queue.then(
      () => this.sink.end(() => this.onEnd(undefined, this.received)),
      (error: Error) => this.onEnd(error),
    );
  }

  fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failed = true;
    this.sink.destroy();
    this.onEnd(error);
  }
}

function write(sink: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(chunk, (error) => (error === null || error === undefined ? resolve() : reject(error)));
  });
}

export function stanzaError(type: 'cancel' | 'modify' | 'wait' | 'auth', condition: string): Element {
  return xml('error', { type }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));
}
