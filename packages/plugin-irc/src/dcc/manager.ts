/**
 * DCC file transfers of one IRC connection: offers we make (DCC SEND from
 * our listener, or passive with a token when we cannot listen), offers we
 * get (connecting to the sender, or listening for a passive sender), DCC
 * RESUME/ACCEPT to continue a partial file, and the address check: Parley
 * connects only to the address the offer came from (the sender's host as
 * the server shows it) unless the user allows another one.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { isParleyError, type FileTarget, type IncomingFileOffer, type Logger, type Net, type NetListener, type OutgoingFile, type TransferReporter } from '@parley/core';
import { printable } from '../sanitize.js';
import { canonicalAddress } from './ip.js';
import { dccFailure } from './errors.js';
import { buildDcc, parseDcc, type DccResume, type DccSend } from './offer.js';
import { receiveFile } from './receive.js';
import { sendFile } from './send.js';

/** What the transfers need of their connection; `connection.ts` provides it. */
export interface DccHost {
  readonly net: Pick<Net, 'connect' | 'listen' | 'lookup'>;
  readonly log: Logger;
  readonly report: TransferReporter;
  /** Sends a CTCP request (PRIVMSG) to `nick`; `body` has no delimiters. */
  ctcp(nick: string, body: string): void;
  /** Sends a CTCP reply (NOTICE) to `nick`. */
  ctcpReply(nick: string, body: string): void;
  /** The local address of the server connection: what we listen on and tell peers. */
  localAddress(): string | undefined;
  /** IRC's case-insensitive nick comparison. */
  sameNick(a: string, b: string): boolean;
  /** A Writable onto an accepted file (the core's transfer sink). */
  openSink(target: FileTarget, onProgress: (bytes: number) => void): Writable;
  /** Asks the user to allow connecting to an address the offer did not come from. */
  allowAddress(question: { peer: string; name: string; address: string; port: number; host: string }, signal: AbortSignal): Promise<boolean>;
}

export interface DccTimeouts {
  /** How long an offer of ours waits for the peer to accept (connect, or answer a passive offer). */
  offerMs: number;
  /** How long to wait for DCC ACCEPT after our DCC RESUME. */
  resumeMs: number;
  /** Connecting to a sender. */
  connectMs: number;
  /** A data connection with no bytes moving for this long has stopped. */
  idleMs: number;
}

const DEFAULT_TIMEOUTS: DccTimeouts = { offerMs: 10 * 60_000, resumeMs: 30_000, connectMs: 30_000, idleMs: 120_000 };

/** An offer a peer made to us. */
interface Incoming {
  kind: 'incoming';
  id: string;
  peer: string;
  /** The sender's host as the server shows it (nick!user@host). */
  host: string;
  send: DccSend;
  abort: AbortController;
  /** Waits for DCC ACCEPT after our DCC RESUME. */
  resumed?: (accept: DccResume) => void;
  /** Waits for the connection of a passive sender. */
  listener?: NetListener;
  started: boolean;
}

/** An offer we made. */
interface Outgoing {
  kind: 'outgoing';
  id: string;
  file: OutgoingFile;
  /** The name as offered (what RESUME and ACCEPT name). */
  offeredName: string;
  /** Our listener's port; 0 for a passive offer. */
  port: number;
  token?: string;
  listener?: NetListener;
  /** Where the peer asked to start (DCC RESUME). */
  offset: number;
  /** A passive offer's answer: the receiver's address and port. */
  answered?: (send: DccSend, host: string) => void;
  abort: AbortController;
}

type Transfer = Incoming | Outgoing;

export class DccTransfers {
  private readonly transfers = new Map<string, Transfer>();
  private readonly timeouts: DccTimeouts;

  constructor(
    private readonly host: DccHost,
    timeouts: Partial<DccTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  /**
   * A CTCP DCC request or reply from `nick` (`user@host` the source's host).
   * Returns true when it was a DCC line (handled, or refused and logged).
   */
  onCtcp(nick: string, host: string, body: string, reply: boolean): boolean {
    if (!/^DCC /i.test(body)) return false;
    if (reply) {
      // "DCC REJECT SEND name": the peer declined one of our offers.
      const reject = /^DCC REJECT SEND (.*)$/i.exec(body);
      if (reject !== null) this.rejected(nick, reject[1]!.replace(/^"(.*)"$/, '$1'));
      return true;
    }
    let request;
    try {
      request = parseDcc(body);
    } catch (error) {
      this.host.log.warn('Ignored a DCC request that could not be read', { from: nick, request: printable(body.slice(0, 200)), error: error instanceof Error ? error.message : String(error) });
      return true;
    }
    if (request === undefined) {
      this.host.log.debug('Ignored a DCC request of a kind Parley does not handle', { from: nick, request: printable(body.slice(0, 40)) });
      return true;
    }
    if (request.type === 'SEND') this.onSend(nick, host, request);
    else if (request.type === 'RESUME') this.onResume(nick, request);
    else this.onAccept(nick, request);
    return true;
  }

  // Receiving.

  private onSend(nick: string, host: string, send: DccSend): void {
    // A passive offer of ours answered: the receiver's address and port, with our token.
    if (send.port !== 0 && send.token !== undefined) {
      for (const t of this.transfers.values()) {
        if (t.kind === 'outgoing' && t.token === send.token && t.answered !== undefined && this.host.sameNick(t.file.peer, nick)) {
          t.answered(send, host);
          return;
        }
      }
    }
    const id = `dcc-${randomBytes(6).toString('hex')}`;
    const transfer: Incoming = { kind: 'incoming', id, peer: nick, host, send, abort: new AbortController(), started: false };
    this.transfers.set(id, transfer);
    const passive = send.port === 0;
    const offer: IncomingFileOffer = {
      id,
      peer: nick,
      name: send.name,
      size: send.size,
      resumable: true,
      origin: passive ? `DCC (passive) from ${nick} at ${host}` : `DCC from ${send.address}:${send.port} (${nick} connects from ${host})`,
    };
    this.host.report.offered(offer);
  }

  /**
   * The user accepted an incoming offer: check the address, resume if asked,
   * connect (or listen), receive. Resolves once the transfer has begun (or was
   * refused); the end is reported.
   */
  async accept(id: string, target: FileTarget): Promise<void> {
    const t = this.transfers.get(id);
    if (t === undefined || t.kind !== 'incoming' || t.started) throw dccFailure('transfer-failed', `No DCC offer ${id} waits for an answer`);
    t.started = true;
    const passive = t.send.port === 0;
    if (!passive && !(await this.fromSender(t.send.address, t.host))) {
      const allowed = await this.host.allowAddress({ peer: t.peer, name: t.send.name, address: t.send.address, port: t.send.port, host: t.host }, t.abort.signal).catch(() => false);
      if (!allowed) {
        // Reported rather than thrown: the core then removes the file it created for the transfer.
        this.ended(t, dccFailure('transfer-refused-address', `${t.peer}'s offer asks Parley to connect to ${t.send.address}:${t.send.port}, not to the address ${t.peer} connects from (${t.host}); it was refused`));
        return;
      }
    }
    void this.receive(t, target).catch((error: unknown) => this.ended(t, error));
  }

  private async receive(t: Incoming, target: FileTarget): Promise<void> {
    const passive = t.send.port === 0;
    let offset = Math.min(target.offset, t.send.size);
    if (offset > 0 && offset < t.send.size) {
      offset = await this.resume(t, offset);
    }
    let socket: Socket;
    if (passive) {
      const address = this.host.localAddress();
      if (address === undefined) throw dccFailure('transfer-failed', 'The local address of the server connection is unknown');
      const listener = await this.host.net.listen({ host: address });
      t.listener = listener;
      this.host.ctcp(t.peer, buildDcc({ type: 'SEND', name: t.send.name, address: listener.host, port: listener.port, size: t.send.size, token: t.send.token! }));
      try {
        socket = await this.acceptFrom(listener, t.host, t.abort.signal);
      } finally {
        listener.close();
      }
    } else {
      socket = await this.host.net.connect({ host: t.send.address, port: t.send.port, timeoutMs: this.timeouts.connectMs, signal: t.abort.signal });
    }
    const report = this.host.report;
    const sink = this.host.openSink({ ...target, offset }, (bytes) => report.progress(t.id, bytes));
    await receiveFile({ socket, sink, offset, size: t.send.size, idleTimeoutMs: this.timeouts.idleMs, signal: t.abort.signal });
    this.transfers.delete(t.id);
    report.completed(t.id);
  }

  /**
   * The sender's connection to our listener. When the server shows the
   * sender's host as an address, a connection from any other address (someone
   * who found the port first) is closed and the wait goes on; a host name or
   * cloak cannot be checked, so the first connection is taken.
   */
  private async acceptFrom(listener: NetListener, host: string, signal: AbortSignal): Promise<Socket> {
    const expected = canonicalAddress(host);
    const deadline = Date.now() + this.timeouts.offerMs;
    for (;;) {
      const socket = await listener.accept({ timeoutMs: Math.max(1, deadline - Date.now()), signal });
      const from = canonicalAddress(socket.remoteAddress ?? '');
      if (expected === undefined || from === expected) return socket;
      this.host.log.warn('Closed a DCC connection from an address other than the sender\'s', { from: socket.remoteAddress, expected: host });
      socket.destroy();
    }
  }

  /** DCC RESUME, then the position the sender's DCC ACCEPT gives (never past ours). */
  private resume(t: Incoming, offset: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        t.resumed = undefined;
        reject(dccFailure('transfer-failed', `${t.peer} did not answer the request to resume ${t.send.name} at byte ${offset}`));
      }, this.timeouts.resumeMs);
      timer.unref();
      t.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(dccFailure('transfer-interrupted', 'The transfer was stopped'));
      }, { once: true });
      t.resumed = (accept) => {
        clearTimeout(timer);
        t.resumed = undefined;
        resolve(Math.min(accept.position, offset));
      };
      this.host.ctcp(t.peer, buildDcc({ type: 'RESUME', name: t.send.name, port: t.send.port, position: offset, ...(t.send.token === undefined ? {} : { token: t.send.token }) }));
    });
  }

  private onAccept(nick: string, accept: DccResume): void {
    for (const t of this.transfers.values()) {
      if (t.kind !== 'incoming' || t.resumed === undefined || !this.host.sameNick(t.peer, nick)) continue;
      // Matched by port for an active offer, by token for a passive one (clients rewrite the name).
      const matches = t.send.port === 0 ? accept.token !== undefined && accept.token === t.send.token : accept.port === t.send.port;
      if (matches) {
        t.resumed(accept);
        return;
      }
    }
    this.host.log.debug('Ignored a DCC ACCEPT that answers nothing', { from: nick });
  }

  /** Whether `address` is where the sender connects from: its host is that address, or a name that resolves to it. */
  private async fromSender(address: string, host: string): Promise<boolean> {
    const wanted = canonicalAddress(address);
    if (wanted === undefined) return false;
    const shown = canonicalAddress(host);
    if (shown !== undefined) return shown === wanted;
    // A host name (not a cloak, which has no address): resolved with the core's DNS settings.
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return false;
    const resolved = await this.host.net.lookup(host).catch(() => undefined);
    return resolved !== undefined && canonicalAddress(resolved) === wanted;
  }

  decline(id: string): void {
    const t = this.transfers.get(id);
    if (t === undefined || t.kind !== 'incoming') return;
    this.transfers.delete(id);
    t.abort.abort();
    t.listener?.close();
    this.host.ctcpReply(t.peer, `DCC REJECT SEND ${t.send.name.includes(' ') ? `"${t.send.name}"` : t.send.name}`.replace(/[\x00-\x1f]/g, '_'));
  }

  // Sending.

  /** Offers `file` to its peer: from our listener, or passive when we cannot listen (behind a proxy). */
  async send(file: OutgoingFile): Promise<void> {
    const address = this.host.localAddress();
    let listener: NetListener | undefined;
    let listenError: unknown;
    if (address !== undefined) {
      try {
        listener = await this.host.net.listen({ host: address });
      } catch (error) {
        listenError = error;
      }
    }
    const token = listener === undefined ? String(1 + (randomBytes(4).readUInt32BE(0) % 999_999)) : undefined;
    const request = buildDcc({
      type: 'SEND',
      name: file.name,
      // A passive offer names no address of ours: behind a proxy it must stay hidden.
      address: listener?.host ?? '0.0.0.0',
      port: listener?.port ?? 0,
      size: file.size,
      ...(token === undefined ? {} : { token }),
    });
    if (listener === undefined) this.host.log.info('Offering the file passively (the peer listens)', { reason: listenError instanceof Error ? listenError.message : 'no local address' });
    const offeredName = (parseDcc(request) as DccSend).name;
    const t: Outgoing = { kind: 'outgoing', id: file.id, file, offeredName, port: listener?.port ?? 0, offset: 0, abort: new AbortController(), ...(listener === undefined ? {} : { listener }), ...(token === undefined ? {} : { token }) };
    this.transfers.set(file.id, t);
    this.host.ctcp(file.peer, request);
    void this.deliver(t).catch((error: unknown) => this.ended(t, error));
  }

  private async deliver(t: Outgoing): Promise<void> {
    let socket: Socket;
    if (t.listener !== undefined) {
      try {
        socket = await t.listener.accept({ timeoutMs: this.timeouts.offerMs, signal: t.abort.signal });
      } finally {
        t.listener.close();
      }
    } else {
      const { send, host } = await new Promise<{ send: DccSend; host: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(dccFailure('transfer-failed', `${t.file.peer} did not answer the offer of ${t.offeredName}`)), this.timeouts.offerMs);
        timer.unref();
        t.abort.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(dccFailure('transfer-interrupted', 'The transfer was stopped'));
        }, { once: true });
        t.answered = (answer, answerHost) => {
          clearTimeout(timer);
          t.answered = undefined;
          resolve({ send: answer, host: answerHost });
        };
      });
      if (!(await this.fromSender(send.address, host))) {
        const allowed = await this.host.allowAddress({ peer: t.file.peer, name: t.offeredName, address: send.address, port: send.port, host }, t.abort.signal).catch(() => false);
        if (!allowed) throw dccFailure('transfer-refused-address', `${t.file.peer} asked Parley to connect to ${send.address}:${send.port}, not to the address it connects from (${host}); refused`);
      }
      socket = await this.host.net.connect({ host: send.address, port: send.port, timeoutMs: this.timeouts.connectMs, signal: t.abort.signal });
    }
    const report = this.host.report;
    report.accepted(t.id);
    await sendFile({ socket, path: t.file.path, offset: t.offset, size: t.file.size, idleTimeoutMs: this.timeouts.idleMs, signal: t.abort.signal, onProgress: (bytes) => report.progress(t.id, bytes) });
    this.transfers.delete(t.id);
    report.completed(t.id);
  }

  /** The receiver asks to start at `position` (its partial file): agreed with DCC ACCEPT before it connects. */
  private onResume(nick: string, resume: DccResume): void {
    for (const t of this.transfers.values()) {
      if (t.kind !== 'outgoing' || !this.host.sameNick(t.file.peer, nick)) continue;
      const matches = t.token !== undefined ? resume.token === t.token : resume.port === t.port;
      if (!matches) continue;
      if (resume.position > t.file.size) {
        this.host.log.warn('Ignored a DCC RESUME past the end of the file', { from: nick, position: resume.position });
        return;
      }
      t.offset = resume.position;
      this.host.ctcp(nick, buildDcc({ type: 'ACCEPT', name: t.offeredName, port: t.port, position: resume.position, ...(t.token === undefined ? {} : { token: t.token }) }));
      return;
    }
    this.host.log.debug('Ignored a DCC RESUME that names no offer of ours', { from: nick });
  }

  private rejected(nick: string, name: string): void {
    for (const t of this.transfers.values()) {
      if (t.kind === 'outgoing' && this.host.sameNick(t.file.peer, nick) && t.offeredName === name) {
        this.transfers.delete(t.id);
        t.abort.abort();
        t.listener?.close();
        this.host.report.cancelled(t.id, `${nick} declined the file`);
        return;
      }
    }
  }

  // Both directions.

  /** The user cancelled: stop moving bytes and say nothing more about it (the core knows). */
  cancel(id: string): void {
    const t = this.transfers.get(id);
    if (t === undefined) return;
    this.transfers.delete(id);
    t.abort.abort();
    t.listener?.close();
  }

  /**
   * Stops everything: the connection is closing (signed off, or dropped: the
   * core makes a new connection, whose context knows nothing of these).
   */
  closeAll(): void {
    for (const t of [...this.transfers.values()]) {
      this.transfers.delete(t.id);
      t.abort.abort();
      t.listener?.close();
      this.host.report.failed(t.id, dccFailure('transfer-interrupted', 'The account went offline'));
    }
  }

  private ended(t: Transfer, error: unknown): void {
    // Cancelled by the user, or already reported by closeAll: nothing more to say.
    if (!this.transfers.has(t.id)) return;
    this.transfers.delete(t.id);
    t.listener?.close();
    const failure = isParleyError(error) ? error : dccFailure('transfer-failed', error instanceof Error ? error.message : String(error), error);
    this.host.report.failed(t.id, failure);
  }
}
