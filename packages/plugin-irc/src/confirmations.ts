import { MessageError } from '@parley/core';

/** Numerics that refuse a PRIVMSG or NOTICE, with its target as the second parameter (RFC 2812 section 5.2). */
const REFUSALS = new Set([
  '401', // ERR_NOSUCHNICK
  '403', // ERR_NOSUCHCHANNEL
  '404', // ERR_CANNOTSENDTOCHAN
  '477', // ERR_NEEDREGGEDNICK (common extension)
  '486', // ERR_NONONREG (common extension)
  '531', // ERR_CANTSENDTOUSER (common extension)
]);

/** How long a message may wait for the server's answer before it is reported failed. */
export const CONFIRM_TIMEOUT_MS = 60_000;
const TOKEN_PREFIX = 'parley-sent-';

/** What the server told about a message it took, when it echoed it (echo-message). */
export interface SendReceipt {
  /** The server's id for the (first line of the) message, from the echo's `msgid` tag. */
  msgid: string | undefined;
  /** The server's time for it, from the echo's `time` tag (ms since the epoch). */
  time: number | undefined;
}

interface Pending {
  target: string;
  /** Lines the message took: a refusal comes once per line. */
  lines: number;
  /** Texts of the lines not echoed back yet, when the server echoes (echo-message without labels). */
  unechoed: string[];
  receipt: SendReceipt;
  refusals: number;
  /** The PING written after the message's lines; undefined until it is written. */
  token: number | undefined;
  /** Every line is written: the next PING may confirm it. */
  written: boolean;
  settled: boolean;
  resolve(receipt: SendReceipt): void;
  reject(error: MessageError): void;
  timer: NodeJS.Timeout | undefined;
}

/** A message being written (see `open`). */
export interface OpenSend<R> {
  /** Settles as the server answers; rejects if the link ends first. */
  readonly promise: Promise<R>;
  /** Call once its last line is written: starts the wait for the server's answer. */
  written(): void;
}

/**
 * IRC has no acknowledgements, but a server handles one client's lines in
 * order: a PING written after a message is answered (PONG) only once the
 * message was handled, and a refusal (401 no such nick, 404 cannot send)
 * comes before that PONG. So a message counts as sent when that PONG
 * arrives, is reported failed with the server's reason when a refusal for
 * its target comes first, and is reported as possibly lost when the
 * connection ends before either: never silently gone.
 *
 * Messages written in the same tick share one PING.
 *
 * When the server echoes our messages (IRCv3 echo-message) but cannot label
 * them, an echo is matched to the oldest unanswered message with that target
 * and line text; it arrives before the PONG, so the echo is never mistaken
 * for a new message and its msgid and time become the message's.
 */
export class SendConfirmations {
  private readonly pending: Pending[] = [];
  private nextToken = 0;
  private scheduled = false;

  constructor(
    private readonly writePing: (token: string) => void,
    private readonly sameTarget: (a: string, b: string) => boolean,
    private readonly timeoutMs = CONFIRM_TIMEOUT_MS,
  ) {}

  /** Call right after writing a message's lines; settles as described above. */
  confirm(target: string, lines: number, texts: readonly string[] = []): Promise<SendReceipt> {
    const send = this.open(target, lines, texts);
    send.written();
    return send.promise;
  }

  /**
   * Call before writing a message's first line, when its lines go out over
   * time (flood control): a refusal or echo of an early line then finds it.
   * `texts` are the lines' texts as sent, when the server echoes messages.
   */
  open(target: string, lines: number, texts: readonly string[] = []): OpenSend<SendReceipt> {
    let entry!: Pending;
    const promise = new Promise<SendReceipt>((resolve, reject) => {
      entry = {
        target,
        lines,
        unechoed: [...texts],
        receipt: { msgid: undefined, time: undefined },
        refusals: 0,
        token: undefined,
        written: false,
        settled: false,
        resolve,
        reject,
        timer: undefined,
      };
    });
    this.pending.push(entry);
    return {
      promise,
      written: () => {
        if (entry.written || !this.pending.includes(entry)) return;
        entry.written = true;
        entry.timer = setTimeout(() => this.settle(entry, new MessageError('send-timeout', 'Not confirmed: the IRC server did not answer in time; the message may not have arrived')), this.timeoutMs);
        if (!this.scheduled) {
          this.scheduled = true;
          queueMicrotask(() => this.ping());
        }
      },
    };
  }

  private ping(): void {
    this.scheduled = false;
    const token = ++this.nextToken;
    for (const entry of this.pending) if (entry.written) entry.token ??= token;
    this.writePing(`${TOKEN_PREFIX}${token}`);
  }

  /** A PONG: every message written before its PING was handled. Returns whether it answered one of ours. */
  pong(param: string | undefined): boolean {
    if (param === undefined || !param.startsWith(TOKEN_PREFIX)) return false;
    const token = Number(param.slice(TOKEN_PREFIX.length));
    if (!Number.isInteger(token)) return false;
    for (const entry of [...this.pending]) if (entry.token !== undefined && entry.token <= token) this.settle(entry);
    return true;
  }

  /** A numeric from the server: a refusal goes to the oldest unanswered message to that target. */
  numeric(command: string, params: readonly string[]): void {
    if (!REFUSALS.has(command)) return;
    const target = params[1];
    if (target === undefined) return;
    const entry = this.pending.find((e) => e.refusals < e.lines && this.sameTarget(e.target, target));
    if (entry === undefined) return;
    entry.refusals++;
    const reason = params[params.length - 1] ?? '';
    this.settle(entry, new MessageError('no-route', `Not delivered: ${target}: ${reason || `server error ${command}`}`));
  }

  /** Our own line echoed back (echo-message): true when it belongs to an unanswered message. */
  echo(target: string, text: string, msgid: string | undefined, time: number | undefined): boolean {
    for (const entry of this.pending) {
      if (!this.sameTarget(entry.target, target)) continue;
      const index = entry.unechoed.indexOf(text);
      if (index === -1) continue;
      entry.unechoed.splice(index, 1);
      if (entry.receipt.msgid === undefined && entry.receipt.time === undefined) entry.receipt = { msgid, time };
      return true;
    }
    return false;
  }

  /** The connection ended: whatever was not answered may or may not have arrived. */
  closed(): void {
    for (const entry of [...this.pending]) {
      this.settle(entry, new MessageError('send-failed', 'The connection closed before the IRC server confirmed the message: it may not have arrived'));
    }
  }

  private settle(entry: Pending, error?: MessageError): void {
    // A refused message stays listed until its PONG, so its further lines' refusals find it.
    const done = error === undefined || entry.refusals >= entry.lines || error.code !== 'no-route';
    if (!entry.settled) {
      entry.settled = true;
      if (error === undefined) entry.resolve(entry.receipt);
      else entry.reject(error);
    }
    if (done) {
      clearTimeout(entry.timer);
      const index = this.pending.indexOf(entry);
      if (index >= 0) this.pending.splice(index, 1);
    }
  }
}
