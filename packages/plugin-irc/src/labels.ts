import { MessageError } from '@parley/core';
import { CONFIRM_TIMEOUT_MS, type OpenSend } from './confirmations.js';

/**
 * Sends confirmed by IRCv3 labeled-response
 * (https://ircv3.net/specs/extensions/labeled-response): each line of a
 * message goes out with its own `label` tag, and the server answers every
 * labeled command — with the message echoed back (echo-message), an `ACK`
 * when it has nothing to say, a refusal (401 no such nick, 404 cannot send,
 * `FAIL`), or a `labeled-response` batch holding several of these. So each
 * line is matched to exactly its answer: no guessing by target and time, no
 * PING needed, and the echo gives the server's `msgid` and `time`.
 *
 * A message counts as sent when every line was answered without a refusal;
 * the first refusal fails it with the server's words; a connection that ends
 * first leaves it possibly lost; a server that never answers fails it after
 * the timeout. Labels stay known until answered, so a late echo is still
 * recognised as ours and never shown as a new message.
 */

export interface SendReceipt {
  /** The server's id for the (first line of the) message, from the echo's `msgid` tag. */
  msgid: string | undefined;
  /** The server's time for it, from the echo's `time` tag (ms since the epoch). */
  time: number | undefined;
}

/** What answered a labeled line. */
export type LabeledReply =
  | { kind: 'echo'; msgid: string | undefined; time: number | undefined }
  | { kind: 'ack' }
  /** An error numeric (4xx/5xx) or FAIL: `text` is the server's description. */
  | { kind: 'refusal'; command: string; text: string }
  /** Any other line (301 away, a NOTE): the server took the command. */
  | { kind: 'other' }
  /** The labeled-response batch that held the answer ended. */
  | { kind: 'batch-end' };

interface Pending {
  target: string;
  /** Labels of lines not answered yet. */
  open: Set<string>;
  receipt: SendReceipt;
  settled: boolean;
  resolve(receipt: SendReceipt): void;
  reject(error: MessageError): void;
  timer: NodeJS.Timeout | undefined;
}

/** Servers keep labels short (ergo refuses more than 64 bytes); ours are "p" and a base-36 counter. */
const PREFIX = 'p';
/** Answers given up on (timeout) whose label is still remembered, at most. */
const MAX_ABANDONED = 1000;

export class LabeledSends {
  private readonly byLabel = new Map<string, Pending>();
  private counter = 0;
  private abandoned = 0;

  constructor(private readonly timeoutMs = CONFIRM_TIMEOUT_MS) {}

  /** A fresh label for one outgoing line. */
  next(): string {
    return `${PREFIX}${(++this.counter).toString(36)}`;
  }

  /** Call right after writing the lines labeled `labels`; settles as described above. */
  confirm(target: string, labels: readonly string[]): Promise<SendReceipt> {
    const send = this.open(target, labels);
    send.written();
    return send.promise;
  }

  /**
   * Call before writing the first of the lines labeled `labels`, when they go
   * out over time (flood control), so that answers to the early ones count;
   * `written()` once the last is out starts the timeout.
   */
  open(target: string, labels: readonly string[]): OpenSend<SendReceipt> {
    let entry!: Pending;
    const promise = new Promise<SendReceipt>((resolve, reject) => {
      entry = { target, open: new Set(labels), receipt: { msgid: undefined, time: undefined }, settled: false, resolve, reject, timer: undefined };
    });
    for (const label of labels) this.byLabel.set(label, entry);
    if (labels.length === 0) this.settle(entry);
    return {
      promise,
      written: () => {
        if (entry.settled || entry.timer !== undefined || entry.open.size === 0) return;
        entry.timer = setTimeout(() => this.timeout(entry), this.timeoutMs);
      },
    };
  }

  /** Whether `label` is one of ours that still waits for its answer. */
  owns(label: string | undefined): boolean {
    return label !== undefined && this.byLabel.has(label);
  }

  /**
   * A line that answers `label`. Returns whether the label was ours (the
   * caller then knows an echo is not a new message).
   */
  reply(label: string, reply: LabeledReply): boolean {
    const entry = this.byLabel.get(label);
    if (entry === undefined) return false;
    switch (reply.kind) {
      case 'echo':
        if (entry.receipt.msgid === undefined && entry.receipt.time === undefined) entry.receipt = { msgid: reply.msgid, time: reply.time };
        this.answered(entry, label);
        break;
      case 'ack':
      case 'batch-end':
        this.answered(entry, label);
        break;
      case 'refusal':
        this.answered(entry, label, new MessageError('no-route', `Not delivered: ${entry.target}: ${reply.text || `server error ${reply.command}`}`));
        break;
      case 'other':
        // Informational (301 RPL_AWAY inside the answer's batch): the batch's end or the echo settles the line.
        break;
    }
    return true;
  }

  /** The connection ended: whatever was not answered may or may not have arrived. */
  closed(): void {
    const entries = new Set(this.byLabel.values());
    this.byLabel.clear();
    this.abandoned = 0;
    for (const entry of entries) {
      clearTimeout(entry.timer);
      this.settle(entry, new MessageError('send-failed', 'The connection closed before the IRC server confirmed the message: it may not have arrived'));
    }
  }

  get pending(): number {
    return this.byLabel.size;
  }

  private answered(entry: Pending, label: string, error?: MessageError): void {
    this.byLabel.delete(label);
    entry.open.delete(label);
    if (error !== undefined) this.settle(entry, error);
    else if (entry.open.size === 0) this.settle(entry);
    if (entry.open.size === 0) clearTimeout(entry.timer);
  }

  private timeout(entry: Pending): void {
    this.settle(entry, new MessageError('send-timeout', 'Not confirmed: the IRC server did not answer in time; the message may not have arrived'));
    // Its labels stay known so a late echo is not taken for a new message, within a bound.
    this.abandoned += entry.open.size;
    if (this.abandoned > MAX_ABANDONED) {
      for (const [label, other] of this.byLabel) if (other.settled) this.byLabel.delete(label);
      this.abandoned = 0;
    }
  }

  private settle(entry: Pending, error?: MessageError): void {
    if (entry.settled) return;
    entry.settled = true;
    if (error === undefined) entry.resolve(entry.receipt);
    else entry.reject(error);
  }
}
