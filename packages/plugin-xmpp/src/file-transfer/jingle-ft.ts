import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openTransferSink, TransferError, type FileChecksum, type FileTarget, type IncomingFileOffer, type Net, type OutgoingFile, type TransferReporter, type TransferSink } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from '../address.js';
import type { Session } from '../session.js';
import { hashElement, readChecksum } from './hashes.js';
import { IBB_BLOCK_SIZE, IBB_MAX_BLOCK_SIZE, IbbReceiver, sendIbb, stanzaError } from './ibb.js';
import { NS_BYTESTREAMS, NS_JINGLE, NS_JINGLE_FT, NS_JINGLE_IBB, NS_JINGLE_S5B } from './namespaces.js';
import { dstAddr, socks5Accept, socks5Connect } from './socks5.js';

/** A SOCKS5 streamhost: ours, a proxy's, or one a peer offers (XEP-0260 §2.2 candidate). */
export interface Candidate {
  cid: string;
  jid: string;
  host: string;
  port: number;
  priority: number;
  type: 'direct' | 'proxy' | 'assisted' | 'tunnel';
}

/** What the Jingle layer needs from the connection. */
export interface JingleDeps {
  session: Session;
  net: Net;
  reporter: () => TransferReporter | undefined;
  /** The local address of the server connection: where a peer may reach our streamhost. */
  localAddress: () => string | undefined;
  /** The SOCKS5 proxies of our server (XEP-0065 §4), found by disco. */
  proxies: () => Promise<Candidate[]>;
}

/** How long a transfer's data connection may stay silent before it counts as stopped. */
const IDLE_TIMEOUT_MS = 60_000;
const PRIORITY_DIRECT = 126 << 16;
const PRIORITY_PROXY = 10 << 16;
/** Jingle file transfer content name of our offers. */
const CONTENT = 'file';

type TransportKind = 's5b' | 'ibb';

interface SessionBase {
  sid: string;
  /** The transfer id the core knows. */
  id: string;
  /** The peer's full JID. */
  peer: string;
  initiator: string;
  responder: string;
  contentName: string;
  transport: TransportKind;
  transportSid: string;
  blockSize: number;
  abort: AbortController;
  sockets: Set<Socket>;
  ended: boolean;
}

interface OutgoingSession extends SessionBase {
  direction: 'out';
  file: OutgoingFile;
  candidates: Candidate[];
  listener?: { close(): void; accept(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<Socket> };
  /** The connection a peer made to our direct streamhost, once its SOCKS5 request matched. */
  direct?: Promise<Socket>;
  sent: number;
  /** Every byte written: waiting for the receiver's session-terminate. */
  delivered: boolean;
}

interface IncomingSession extends SessionBase {
  direction: 'in';
  size: number;
  checksum?: FileChecksum;
  candidates: Candidate[];
  target?: FileTarget;
  sink?: TransferSink;
  ibb?: IbbReceiver;
  /** The proxy connection waiting for the initiator's `activated`. */
  pendingProxy?: { cid: string; socket: Socket };
}

type JingleSession = OutgoingSession | IncomingSession;

function newId(): string {
  return randomBytes(9).toString('base64url');
}

function jingle(action: string, sid: string, attrs: Record<string, string>, ...children: Element[]): Element {
  return xml('jingle', { xmlns: NS_JINGLE, action, sid, ...attrs }, ...children);
}

function reason(condition: string, text?: string): Element {
  return xml('reason', {}, xml(condition), ...(text === undefined ? [] : [xml('text', {}, text)]));
}

function candidateElement(c: Candidate): Element {
  return xml('candidate', { cid: c.cid, host: c.host, jid: c.jid, port: String(c.port), priority: String(c.priority), type: c.type });
}

/** A candidate from the peer's word; anything malformed is left out. */
export function readCandidate(element: Element): Candidate | undefined {
  const { cid, host, jid, port, priority, type } = element.attrs as Record<string, string | undefined>;
  const portNumber = Number(port);
  const prio = Number(priority ?? '0');
  if (typeof cid !== 'string' || cid === '' || cid.length > 256 || typeof host !== 'string' || host === '' || host.length > 255 || typeof jid !== 'string') return undefined;
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535 || !Number.isSafeInteger(prio)) return undefined;
  const kind = type ?? 'direct';
  if (kind !== 'direct' && kind !== 'proxy' && kind !== 'assisted' && kind !== 'tunnel') return undefined;
  return { cid, host, jid, port: portNumber, priority: prio, type: kind };
}

function fileElement(file: OutgoingFile, digest?: Buffer): Element {
  return xml(
    'file',
    {},
    ...(file.mimeType === undefined ? [] : [xml('media-type', {}, file.mimeType)]),
    xml('name', {}, file.name),
    xml('size', {}, String(file.size)),
    ...(file.description === undefined || file.description === '' ? [] : [xml('desc', {}, file.description)]),
    ...(digest === undefined ? [] : [hashElement('sha-256', digest)]),
  );
}

async function sha256Of(path: string, signal: AbortSignal): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest();
}

/**
 * Jingle File Transfer (XEP-0234) over SOCKS5 Bytestreams (XEP-0260, direct
 * and through the server's proxy) with In-Band Bytestreams (XEP-0261) as
 * the fallback. We send as initiator offering our streamhosts; we receive
 * as responder offering none (we connect out to the sender's), so a peer
 * never learns an address of ours it did not have.
 */
export class JingleFileTransfer {
  private readonly sessions = new Map<string, JingleSession>();

  constructor(private readonly deps: JingleDeps) {}

  private get session(): Session {
    return this.deps.session;
  }

  private key(peer: string, sid: string): string {
    return `${peer} ${sid}`;
  }

  private byId(id: string): JingleSession | undefined {
    for (const s of this.sessions.values()) if (s.id === id) return s;
    return undefined;
  }

  has(id: string): boolean {
    return this.byId(id) !== undefined;
  }

  // ---- sending ----

  /** Offers `file` to `peer` (a full JID). Resolves once the peer has the offer. */
  async send(file: OutgoingFile, peer: string, transport: TransportKind): Promise<void> {
    const own = this.session.ownJid().full;
    const s: OutgoingSession = {
      direction: 'out',
      sid: newId(),
      id: file.id,
      peer,
      initiator: own,
      responder: peer,
      contentName: CONTENT,
      transport,
      transportSid: newId(),
      blockSize: IBB_BLOCK_SIZE,
      abort: new AbortController(),
      sockets: new Set(),
      ended: false,
      file,
      candidates: [],
      sent: 0,
      delivered: false,
    };
    // The checksum goes with the offer (XEP-0234 §5): one read of the file before the transfer.
    const digest = await sha256Of(file.path, s.abort.signal).catch((error: Error) => {
      throw new TransferError('transfer-file-unreadable', `Cannot read ${file.path}: ${error.message}`, { cause: error });
    });
    const transportElement = transport === 's5b' ? await this.offerStreamhosts(s) : this.ibbTransport(s);
    this.sessions.set(this.key(peer, s.sid), s);
    const content = xml('content', { creator: 'initiator', name: CONTENT, senders: 'initiator' }, xml('description', { xmlns: NS_JINGLE_FT }, fileElement(file, digest)), transportElement);
    try {
      await this.session.iqSet(jingle('session-initiate', s.sid, { initiator: own }, content), peer, 30_000);
    } catch (error) {
      this.close(s);
      throw new TransferError('transfer-failed', `${peer} did not take the offer: ${(error as Error).message}`, { cause: error });
    }
  }

  private ibbTransport(s: SessionBase): Element {
    return xml('transport', { xmlns: NS_JINGLE_IBB, sid: s.transportSid, 'block-size': String(s.blockSize) });
  }

  /** Our streamhosts: a direct one on the address the server sees us at (unless a proxy hides us), and the server's proxies. */
  private async offerStreamhosts(s: OutgoingSession): Promise<Element> {
    const dst = dstAddr(s.transportSid, s.initiator, s.responder);
    const host = this.deps.localAddress();
    if (host !== undefined) {
      try {
        const listener = await this.deps.net.listen({ host });
        s.listener = listener;
        s.candidates.push({ cid: newId(), jid: s.initiator, host: listener.host, port: listener.port, priority: PRIORITY_DIRECT, type: 'direct' });
        s.direct = this.acceptDirect(s, listener, dst);
        s.direct.catch(() => undefined);
      } catch (error) {
        this.session.log.debug('No direct streamhost', { error: (error as Error).message });
      }
    }
    for (const proxy of await this.deps.proxies()) s.candidates.push({ ...proxy, cid: newId(), priority: PRIORITY_PROXY, type: 'proxy' });
    return xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid, mode: 'tcp', dstaddr: dst }, ...s.candidates.map(candidateElement));
  }

  /** The peer's connection to our streamhost: the first that asks for this stream (a stranger's is closed). */
  private async acceptDirect(s: OutgoingSession, listener: NonNullable<OutgoingSession['listener']>, dst: string): Promise<Socket> {
    for (;;) {
      const socket = await listener.accept({ timeoutMs: 10 * 60_000, signal: s.abort.signal });
      s.sockets.add(socket);
      try {
        await socks5Accept(socket, dst);
        return socket;
      } catch (error) {
        s.sockets.delete(socket);
        this.session.log.debug('Refused a connection to our streamhost', { error: (error as Error).message });
      }
    }
  }

  private async onSessionAccept(s: OutgoingSession, el: Element): Promise<void> {
    this.deps.reporter()?.accepted(s.id);
    const content = el.getChild('content');
    if (s.transport === 'ibb') {
      const t = content?.getChild('transport', NS_JINGLE_IBB);
      const size = Number(t?.attrs['block-size']);
      if (Number.isInteger(size) && size > 0 && size < s.blockSize) s.blockSize = size;
      await this.sendOverIbb(s);
      return;
    }
    // We do not try the responder's streamhosts: the one it picks among ours does.
    const transport = xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid }, xml('candidate-error'));
    await this.session.iqSet(jingle('transport-info', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, transport)), s.peer, 30_000);
  }

  private async onTransportInfoOut(s: OutgoingSession, transport: Element): Promise<void> {
    const used = transport.getChild('candidate-used');
    if (used !== undefined) {
      const candidate = s.candidates.find((c) => c.cid === used.attrs.cid);
      if (candidate === undefined) throw new TransferError('transfer-failed', 'The peer picked a streamhost we did not offer');
      let socket: Socket;
      if (candidate.type === 'proxy') {
        socket = await this.deps.net.connect({ host: candidate.host, port: candidate.port, signal: s.abort.signal });
        s.sockets.add(socket);
        await socks5Connect(socket, dstAddr(s.transportSid, s.initiator, s.responder));
        // XEP-0065 §6.3.5: the proxy joins both ends once the requester asks it to.
        await this.session.iqSet(xml('query', { xmlns: NS_BYTESTREAMS, sid: s.transportSid }, xml('activate', {}, s.peer)), candidate.jid, 30_000);
        const activated = xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid }, xml('activated', { cid: candidate.cid }));
        await this.session.iqSet(jingle('transport-info', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, activated)), s.peer, 30_000);
      } else {
        if (s.direct === undefined) throw new TransferError('transfer-failed', 'The peer picked a streamhost we did not offer');
        socket = await s.direct;
      }
      s.listener?.close();
      this.session.log.debug('Sending the file over SOCKS5', { streamhost: candidate.type, jid: candidate.jid });
      await this.writeSocket(s, socket);
      this.session.log.debug('File written to the bytestream', { bytes: s.sent });
      return;
    }
    if (transport.getChild('candidate-error') !== undefined) {
      // None of our streamhosts reached the peer: fall back to in-band (XEP-0260 §2.4, XEP-0261).
      s.listener?.close();
      s.transport = 'ibb';
      s.transportSid = newId();
      await this.session.iqSet(jingle('transport-replace', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, this.ibbTransport(s))), s.peer, 30_000);
    }
  }

  private async writeSocket(s: OutgoingSession, socket: Socket): Promise<void> {
    // Nothing comes back on a file's bytestream; reading keeps the socket's end events flowing.
    socket.resume();
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        s.sent += chunk.length;
        this.deps.reporter()?.progress(s.id, s.sent);
        callback(null, chunk);
      },
    });
    // The socket stays open after the last byte: the receiver ends the session once it has them all.
    await pipeline(createReadStream(s.file.path, { highWaterMark: 256 * 1024 }), counter, socket, { signal: s.abort.signal, end: false });
    s.delivered = true;
    socket.once('close', () => {
      if (!s.ended) this.fail(s, new TransferError('transfer-failed', 'The data connection closed before the peer confirmed the file'));
    });
  }

  private async sendOverIbb(s: OutgoingSession): Promise<void> {
    await sendIbb(this.session, s.peer, s.transportSid, s.blockSize, s.file.path, s.abort.signal, (bytes) => {
      s.sent = bytes;
      this.deps.reporter()?.progress(s.id, bytes);
    });
    s.delivered = true;
  }

  // ---- receiving ----

  private onSessionInitiate(el: Element, from: string): Element | true {
    const sid = String(el.attrs.sid ?? '');
    if (sid === '' || sid.length > 256) return stanzaError('modify', 'bad-request');
    if (this.sessions.has(this.key(from, sid))) return stanzaError('cancel', 'conflict');
    const content = el.getChild('content');
    const file = content?.getChild('description', NS_JINGLE_FT)?.getChild('file');
    const s5b = content?.getChild('transport', NS_JINGLE_S5B);
    const ibb = content?.getChild('transport', NS_JINGLE_IBB);
    if (content === undefined || file === undefined || (s5b === undefined && ibb === undefined)) {
      // Not a file offer (a call, say) or a transport we lack: not for us.
      void this.terminate(from, sid, 'unsupported-applications');
      return true;
    }
    const size = Number(file.getChildText('size'));
    const name = file.getChildText('name') ?? '';
    const own = this.session.ownJid().full;
    const s: IncomingSession = {
      direction: 'in',
      sid,
      id: `jingle:${newId()}`,
      peer: from,
      initiator: String(el.attrs.initiator ?? from),
      responder: own,
      contentName: String(content.attrs.name ?? CONTENT),
      transport: s5b !== undefined ? 's5b' : 'ibb',
      transportSid: String((s5b ?? ibb)?.attrs.sid ?? ''),
      blockSize: Math.min(IBB_MAX_BLOCK_SIZE, Number(ibb?.attrs['block-size']) || IBB_BLOCK_SIZE),
      abort: new AbortController(),
      sockets: new Set(),
      ended: false,
      size,
      candidates: (s5b?.getChildren('candidate') ?? []).map(readCandidate).filter((c): c is Candidate => c !== undefined),
    };
    const checksum = readChecksum(file);
    if (checksum !== undefined) s.checksum = checksum;
    if (s.initiator !== from) {
      void this.terminate(from, sid, 'security-error', 'The initiator is not who sent the offer');
      return true;
    }
    if (!Number.isSafeInteger(size) || size < 0 || s.transportSid === '' || s.transportSid.length > 256) {
      void this.terminate(from, sid, 'failed-application', 'The offer has no valid size');
      return true;
    }
    this.sessions.set(this.key(from, sid), s);
    const description = file.getChildText('desc') ?? undefined;
    const mimeType = file.getChildText('media-type') ?? undefined;
    const offer: IncomingFileOffer = {
      id: s.id,
      peer: parseAddress(from)?.bare ?? from,
      name,
      size,
      origin: s.transport === 's5b' ? `SOCKS5 bytestream from ${s.candidates.map((c) => `${c.host}:${c.port}${c.type === 'proxy' ? ` (proxy ${c.jid})` : ''}`).join(', ') || 'nowhere'}` : 'in-band, through the server',
      ...(checksum === undefined ? {} : { checksum }),
      ...(description === undefined || description === '' ? {} : { description }),
      ...(mimeType === undefined || mimeType === '' ? {} : { mimeType }),
    };
    this.deps.reporter()?.offered(offer);
    return true;
  }

  /** The user took the offer: answer it and start the data connection. */
  async accept(id: string, target: FileTarget): Promise<void> {
    const s = this.byId(id);
    if (s === undefined || s.direction !== 'in') throw new TransferError('transfer-unknown', 'No such Jingle offer');
    s.target = target;
    s.sink = openTransferSink(target, (bytes) => this.deps.reporter()?.progress(s.id, bytes));
    s.sink.on('error', (error) => this.fail(s, error));
    const transport =
      s.transport === 's5b'
        ? xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid, mode: 'tcp', dstaddr: dstAddr(s.transportSid, s.responder, s.initiator) })
        : xml('transport', { xmlns: NS_JINGLE_IBB, sid: s.transportSid, 'block-size': String(s.blockSize) });
    if (s.transport === 'ibb') this.expectIbb(s);
    await this.session.iqSet(
      jingle('session-accept', s.sid, { responder: s.responder }, xml('content', { creator: 'initiator', name: s.contentName, senders: 'initiator' }, xml('description', { xmlns: NS_JINGLE_FT }), transport)),
      s.peer,
      30_000,
    );
    if (s.transport === 's5b') void this.connectCandidates(s).catch((error: Error) => this.fail(s, error));
  }

  /** Tries the sender's streamhosts, best first; a proxy only at the address the proxy itself gives. */
  private async connectCandidates(s: IncomingSession): Promise<void> {
    const dst = dstAddr(s.transportSid, s.initiator, s.responder);
    for (const candidate of [...s.candidates].sort((a, b) => b.priority - a.priority)) {
      if (s.ended) return;
      let address = candidate;
      if (candidate.type === 'proxy') {
        // The offer's word on where a proxy listens is not taken: ask the proxy (XEP-0065 §4),
        // so an offer cannot send Parley to some other address in a proxy's name.
        const real = await this.proxyAddress(candidate.jid);
        if (real === undefined) continue;
        if (real.host !== candidate.host || real.port !== candidate.port) {
          this.session.log.warn('Skipped a streamhost offered as a proxy at another address than the proxy gives', { jid: candidate.jid, offered: `${candidate.host}:${candidate.port}` });
          continue;
        }
        address = { ...candidate, host: real.host, port: real.port };
      }
      let socket: Socket | undefined;
      try {
        socket = await this.deps.net.connect({ host: address.host, port: address.port, signal: s.abort.signal, timeoutMs: 10_000 });
        s.sockets.add(socket);
        await socks5Connect(socket, dst, 10_000);
      } catch (error) {
        if (socket !== undefined) {
          socket.destroy();
          s.sockets.delete(socket);
        }
        this.session.log.debug('Streamhost unreachable', { host: address.host, port: address.port, error: (error as Error).message });
        continue;
      }
      const used = xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid }, xml('candidate-used', { cid: candidate.cid }));
      if (candidate.type === 'proxy') s.pendingProxy = { cid: candidate.cid, socket };
      await this.session.iqSet(jingle('transport-info', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, used)), s.peer, 30_000);
      if (candidate.type !== 'proxy') await this.readSocket(s, socket);
      return;
    }
    const error = xml('transport', { xmlns: NS_JINGLE_S5B, sid: s.transportSid }, xml('candidate-error'));
    await this.session.iqSet(jingle('transport-info', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, error)), s.peer, 30_000);
  }

  private readonly proxyCache = new Map<string, Promise<{ host: string; port: number } | undefined>>();

  private proxyAddress(jid: string): Promise<{ host: string; port: number } | undefined> {
    let pending = this.proxyCache.get(jid);
    if (pending === undefined) {
      pending = streamhostOf(this.session, jid);
      this.proxyCache.set(jid, pending);
    }
    return pending;
  }

  /** The file's bytes from the data connection, no more than announced, with a bound on silence. */
  private async readSocket(s: IncomingSession, socket: Socket): Promise<void> {
    const sink = s.sink!;
    const expected = s.size - (s.target?.offset ?? 0);
    let received = 0;
    let idle: NodeJS.Timeout | undefined;
    const limiter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        idle?.refresh();
        received += chunk.length;
        if (received > expected) {
          callback(new TransferError('transfer-oversize', `The peer sent more than the ${s.size} bytes it announced`));
          return;
        }
        callback(null, chunk);
        if (received === expected) {
          // What the sender writes after the announced bytes is never read.
          socket.unpipe(limiter);
          limiter.end();
        }
      },
    });
    idle = setTimeout(() => limiter.destroy(new TransferError('transfer-incomplete', `The peer stopped sending after ${received} of ${expected} bytes`)), IDLE_TIMEOUT_MS);
    socket.once('end', () => {
      if (received < expected) limiter.destroy(new TransferError('transfer-incomplete', `The data connection closed after ${received} of ${expected} bytes`));
    });
    try {
      if (expected === 0) limiter.end();
      else socket.pipe(limiter);
      await pipeline(limiter, sink, { signal: s.abort.signal });
    } finally {
      clearTimeout(idle);
      socket.unpipe(limiter);
    }
    await this.received(s);
  }

  private expectIbb(s: IncomingSession): void {
    s.ibb = new IbbReceiver(s.peer, s.transportSid, s.sink!, s.size - (s.target?.offset ?? 0), (error) => {
      if (error !== undefined) this.fail(s, error);
      else void this.received(s).catch((e: Error) => this.fail(s, e));
    });
  }

  private async received(s: IncomingSession): Promise<void> {
    if (s.ended) return;
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    this.deps.reporter()?.completed(s.id, s.checksum === undefined ? undefined : { checksum: s.checksum });
    this.closeSockets(s);
    await this.terminate(s.peer, s.sid, 'success');
  }

  // ---- IQs from the peer ----

  /** A `<jingle/>` set from `from`. Returns the IQ's answer. */
  handle(el: Element, from: string): Element | true {
    const action = String(el.attrs.action ?? '');
    if (action === 'session-initiate') return this.onSessionInitiate(el, from);
    const s = this.sessions.get(this.key(from, String(el.attrs.sid ?? '')));
    if (s === undefined) return xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('unknown-session', { xmlns: 'urn:xmpp:jingle:errors:1' }));
    const run = (work: Promise<void>) => void work.catch((error: Error) => this.fail(s, error));
    const content = el.getChild('content');
    switch (action) {
      case 'session-accept':
        if (s.direction === 'out') run(this.onSessionAccept(s, el));
        return true;
      case 'transport-info': {
        const transport = content?.getChild('transport', NS_JINGLE_S5B);
        if (transport === undefined) return true;
        if (s.direction === 'out') run(this.onTransportInfoOut(s, transport));
        else {
          const activated = transport.getChild('activated');
          if (activated !== undefined && s.pendingProxy !== undefined && activated.attrs.cid === s.pendingProxy.cid) run(this.readSocket(s, s.pendingProxy.socket));
          // The sender's own attempts at our (empty) candidate list mean nothing to us.
        }
        return true;
      }
      case 'transport-replace': {
        const ibb = content?.getChild('transport', NS_JINGLE_IBB);
        if (s.direction !== 'in' || ibb === undefined || s.sink === undefined) {
          run(this.request(s.peer, jingle('transport-reject', s.sid, {}, ...(content === undefined ? [] : [content]))));
          return true;
        }
        s.transport = 'ibb';
        s.transportSid = String(ibb.attrs.sid ?? '');
        s.blockSize = Math.min(IBB_MAX_BLOCK_SIZE, Number(ibb.attrs['block-size']) || IBB_BLOCK_SIZE);
        this.closeSockets(s);
        this.expectIbb(s);
        run(this.request(s.peer, jingle('transport-accept', s.sid, {}, xml('content', { creator: 'initiator', name: s.contentName }, xml('transport', { xmlns: NS_JINGLE_IBB, sid: s.transportSid, 'block-size': String(s.blockSize) })))));
        return true;
      }
      case 'transport-accept':
        if (s.direction === 'out' && s.transport === 'ibb') run(this.sendOverIbb(s));
        return true;
      case 'session-terminate':
        this.onTerminate(s, el.getChild('reason'));
        return true;
      case 'session-info':
        // A received/checksum notice (XEP-0234 §6, §7): nothing to do.
        return true;
      default:
        return stanzaError('cancel', 'feature-not-implemented');
    }
  }

  /** The IBB stream of a session, for the connection's IBB routing. */
  ibbStream(from: string, sid: string): IbbReceiver | undefined {
    for (const s of this.sessions.values()) {
      if (s.direction === 'in' && s.peer === from && s.transport === 'ibb' && s.transportSid === sid) return s.ibb;
    }
    return undefined;
  }

  private onTerminate(s: JingleSession, reasonEl: Element | undefined): void {
    if (s.ended) return;
    const condition = reasonEl?.children.find((c): c is Element => typeof c !== 'string' && c.name !== 'text')?.name ?? 'unknown';
    const text = reasonEl?.getChildText('text') ?? undefined;
    if (s.direction === 'out' && condition === 'success') {
      s.ended = true;
      this.sessions.delete(this.key(s.peer, s.sid));
      this.closeSockets(s);
      // The receiver has every byte (it checked them against our hash); acknowledgements of the last in-band blocks may still be on the way.
      this.deps.reporter()?.progress(s.id, s.file.size);
      this.deps.reporter()?.completed(s.id);
      return;
    }
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    this.closeSockets(s);
    if (s.direction === 'in') s.sink?.destroy();
    if (condition === 'decline' || condition === 'cancel' || condition === 'busy') this.deps.reporter()?.cancelled(s.id, text ?? (condition === 'decline' ? 'The peer declined the file' : 'The peer cancelled the transfer'));
    else this.deps.reporter()?.failed(s.id, new TransferError(s.direction === 'in' ? 'transfer-incomplete' : 'transfer-failed', `The peer ended the transfer (${condition}${text === undefined ? '' : `: ${text}`})`));
  }

  // ---- ending ----

  private fail(s: JingleSession, error: Error): void {
    if (s.ended) return;
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    this.closeSockets(s);
    if (s.direction === 'in') s.sink?.destroy();
    const transferError = error instanceof TransferError || error.name === 'ConnectionError' ? error : new TransferError('transfer-failed', error.message, { cause: error });
    this.deps.reporter()?.failed(s.id, transferError);
    const code = (transferError as { code?: string }).code;
    void this.terminate(s.peer, s.sid, code === 'transfer-oversize' || code === 'transfer-incomplete' ? 'failed-transport' : code === 'transfer-checksum-mismatch' ? 'media-error' : 'failed-application', transferError.message);
  }

  async decline(id: string): Promise<void> {
    const s = this.byId(id);
    if (s === undefined) return;
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    await this.terminate(s.peer, s.sid, 'decline');
  }

  async cancel(id: string): Promise<void> {
    const s = this.byId(id);
    if (s === undefined) return;
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    this.closeSockets(s);
    if (s.direction === 'in') s.sink?.destroy();
    await this.terminate(s.peer, s.sid, 'cancel');
  }

  /** The connection went away: every transfer stops (the core reports them interrupted). */
  closeAll(): void {
    for (const s of this.sessions.values()) {
      s.ended = true;
      this.closeSockets(s);
      if (s.direction === 'in') s.sink?.destroy();
    }
    this.sessions.clear();
  }

  private closeSockets(s: JingleSession): void {
    s.abort.abort();
    if (s.direction === 'out') s.listener?.close();
    for (const socket of s.sockets) socket.destroy();
    s.sockets.clear();
  }

  private close(s: JingleSession): void {
    s.ended = true;
    this.sessions.delete(this.key(s.peer, s.sid));
    this.closeSockets(s);
  }

  private async terminate(peer: string, sid: string, condition: string, text?: string): Promise<void> {
    await this.request(peer, jingle('session-terminate', sid, {}, reason(condition, text)));
  }

  private async request(peer: string, element: Element): Promise<void> {
    try {
      await this.session.iqSet(element, peer, 30_000);
    } catch (error) {
      this.session.log.debug('Jingle request not answered', { action: String(element.attrs.action), error: (error as Error).message });
    }
  }
}

/** Where a XEP-0065 proxy listens, in its own words (§4). */
export async function streamhostOf(session: Session, jid: string): Promise<{ host: string; port: number } | undefined> {
  try {
    const query = await session.iqGet(xml('query', { xmlns: NS_BYTESTREAMS }), jid, 10_000);
    const host = query?.getChild('streamhost');
    const port = Number(host?.attrs.port);
    if (typeof host?.attrs.host !== 'string' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    return { host: host.attrs.host, port };
  } catch {
    return undefined;
  }
}
