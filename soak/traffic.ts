/**
 * The traffic of a soak: each peer sends the other a numbered message every
 * tick, through the public API a UI uses (`conversations.sendIm`), and the
 * tally follows every message to one end: received (once or more), or
 * reported failed to the sender (a rejected send or a `messageFailed`
 * event). A message with neither is lost: it vanished silently.
 */
import type { AccountStatus, Message } from '@parley/core';
import type { Peer } from './rigs.js';

const PATTERN = /^soak (\d+) (\d+)$/;

/** One direction, sender → receiver. */
export class Direction {
  sent = 0;
  /** Sends still waiting for the core's answer (queued or in the plugin). */
  pending = 0;
  /** Times each sequence number arrived. */
  readonly arrivals = new Map<number, number>();
  /** Sequence numbers reported failed, with the error code the user saw. */
  readonly failures = new Map<number, string>();
  /** Arrivals with a lower number than one that came before. */
  outOfOrder = 0;
  private highest = -1;

  constructor(
    readonly index: number,
    readonly from: Peer,
    readonly to: Peer,
  ) {}

  get label(): string {
    return `${this.from.name} → ${this.to.name}`;
  }

  text(seq: number): string {
    return `soak ${this.index} ${seq}`;
  }

  /** The sequence number of one of this direction's texts. */
  seqOf(text: string): number | undefined {
    const match = PATTERN.exec(text);
    if (match === null || Number(match[1]) !== this.index) return undefined;
    return Number(match[2]);
  }

  arrived(seq: number): void {
    this.arrivals.set(seq, (this.arrivals.get(seq) ?? 0) + 1);
    if (seq < this.highest) this.outOfOrder++;
    else this.highest = seq;
  }

  failed(seq: number, code: string): void {
    if (!this.failures.has(seq)) this.failures.set(seq, code);
  }

  /** Every message sent has an outcome the user can see. */
  settled(): boolean {
    if (this.pending > 0) return false;
    for (let seq = 0; seq < this.sent; seq++) if (!this.arrivals.has(seq) && !this.failures.has(seq)) return false;
    return true;
  }

  counts(): DirectionCounts {
    let received = 0;
    let duplicated = 0;
    let lost = 0;
    let failedButArrived = 0;
    for (let seq = 0; seq < this.sent; seq++) {
      const times = this.arrivals.get(seq) ?? 0;
      if (times > 0) received++;
      if (times > 1) duplicated += times - 1;
      if (times === 0 && !this.failures.has(seq)) lost++;
      if (times > 0 && this.failures.has(seq)) failedButArrived++;
    }
    const failureCodes = new Map<string, number>();
    for (const code of this.failures.values()) failureCodes.set(code, (failureCodes.get(code) ?? 0) + 1);
    const lostSeqs: number[] = [];
    for (let seq = 0; seq < this.sent && lostSeqs.length < 20; seq++) if (!this.arrivals.has(seq) && !this.failures.has(seq)) lostSeqs.push(seq);
    return { label: this.label, sent: this.sent, received, lost, duplicated, failed: this.failures.size, failedButArrived, outOfOrder: this.outOfOrder, failureCodes, lostSeqs };
  }
}

export interface DirectionCounts {
  label: string;
  sent: number;
  /** Distinct messages that arrived. */
  received: number;
  /** Neither arrived nor reported failed. */
  lost: number;
  /** Extra arrivals of a message that had arrived already. */
  duplicated: number;
  /** Reported failed to the sender. */
  failed: number;
  /** Reported failed, yet they arrived (the user was told wrongly). */
  failedButArrived: number;
  outOfOrder: number;
  failureCodes: Map<string, number>;
  /** The first few lost sequence numbers, to look for in the logs. */
  lostSeqs: number[];
}

/** A peer's offline spells: when its account left `online`, and when it was back. */
export class Availability {
  private downSince: number | undefined;
  readonly outages: Array<{ down: number; up: number }> = [];
  /** Error reasons the account reported when it dropped. */
  readonly reasons = new Map<string, number>();

  constructor(readonly peer: Peer) {
    let online = peer.parley.accounts.status(peer.accountId).state === 'online';
    peer.parley.events.on('accountStatusChanged', (account, status: AccountStatus) => {
      if (account.id !== peer.accountId) return;
      const now = Date.now();
      if (online && status.state !== 'online') {
        online = false;
        this.downSince = now;
      } else if (!online && status.state === 'online') {
        online = true;
        if (this.downSince !== undefined) this.outages.push({ down: this.downSince, up: now });
        this.downSince = undefined;
      }
      if (status.error !== undefined && status.state !== 'online') {
        const key = `${status.error.reason}`;
        this.reasons.set(key, (this.reasons.get(key) ?? 0) + 1);
      }
    });
  }

  get online(): boolean {
    return this.peer.parley.accounts.status(this.peer.accountId).state === 'online';
  }
}

/** Both directions of one rig, ticking every `intervalMs`. */
export class Exchange {
  readonly directions: readonly [Direction, Direction];
  private timer: NodeJS.Timeout | undefined;
  /** Error lines written into the peers' conversations that no `messageFailed` explains (a plugin's notice). */
  readonly notices: string[] = [];

  constructor(peers: readonly [Peer, Peer]) {
    const [a, b] = peers;
    this.directions = [new Direction(0, a, b), new Direction(1, b, a)];
    for (const direction of this.directions) this.watch(direction);
  }

  private watch(direction: Direction): void {
    const { from, to } = direction;
    to.parley.events.on('messageReceived', (message: Message) => {
      if (message.accountId !== to.accountId) return;
      const seq = direction.seqOf(message.text);
      if (seq !== undefined) direction.arrived(seq);
    });
    from.parley.events.on('messageFailed', (message, _conversation, error) => {
      if (message.accountId !== from.accountId) return;
      const seq = direction.seqOf(message.text);
      if (seq !== undefined) direction.failed(seq, error.code);
    });
    from.parley.events.on('messageWritten', (message) => {
      if (message.accountId !== from.accountId || message.flags.error !== true) return;
      // The core's own failure line quotes the message; anything else is a plugin's notice.
      if (!/"soak \d+ \d+"$/.test(message.text)) this.notices.push(`${from.name}: ${message.text}`);
    });
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      for (const direction of this.directions) this.send(direction);
    }, intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private send(direction: Direction): void {
    const seq = direction.sent++;
    direction.pending++;
    direction.from.parley.conversations
      .sendIm(direction.from.accountId, direction.to.address, direction.text(seq))
      .then(
        (message) => {
          if (message === undefined) direction.failed(seq, 'cancelled');
        },
        (error: unknown) => direction.failed(seq, (error as { code?: string }).code ?? 'send-rejected'),
      )
      .finally(() => direction.pending--);
  }

  settled(): boolean {
    return this.directions.every((d) => d.settled());
  }
}
