import { randomBytes } from 'node:crypto';
import { TransferError, type FileTarget, type OutgoingFile, type TransferReporter } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { parseAddress } from '../address.js';
import type { Disco } from '../disco.js';
import type { FileTransferMethod } from '../options.js';
import type { PresenceTracker } from '../presence.js';
import type { Session } from '../session.js';
import { findUploadService, requestSlot, uploadFile, type UploadService } from './http-upload.js';
import { stanzaError } from './ibb.js';
import { JingleFileTransfer, streamhostOf, type Candidate } from './jingle-ft.js';
import { NS_IBB, NS_JINGLE, NS_JINGLE_FT, NS_JINGLE_S5B } from './namespaces.js';
import { downloadLink, oobElement, oobOffer, readOobLink } from './oob.js';

/** The iqCallee of @xmpp/client, as far as this uses it. */
export interface IqCallee {
  set(ns: string, name: string, handler: (context: { stanza: Element; element: Element }) => Element | true | Promise<Element | true>): void;
}

/**
 * Files over XMPP: which way a file goes (service discovery decides), and
 * the offers that come in. Sending: HTTP File Upload (XEP-0363) with the
 * link in an OOB message (XEP-0066), or Jingle File Transfer (XEP-0234) to
 * one of the peer's clients. Receiving: OOB links (uploads) and Jingle
 * offers. Bytes always stream between the file and the network.
 */
export class FileTransfers {
  readonly jingle: JingleFileTransfer;
  private upload: Promise<UploadService | undefined> | undefined;
  private proxies: Promise<Candidate[]> | undefined;
  /** Accepted-or-not OOB links and uploads under way, by transfer id. */
  private readonly links = new Map<string, { url: URL; abort: AbortController }>();
  private readonly uploads = new Map<string, AbortController>();

  constructor(
    private readonly session: Session,
    private readonly disco: Disco,
    private readonly presence: PresenceTracker,
    private readonly method: () => FileTransferMethod,
    localAddress: () => string | undefined,
  ) {
    this.jingle = new JingleFileTransfer({
      session,
      net: session.ctx.net,
      reporter: () => this.reporter,
      localAddress,
      proxies: () => (this.proxies ??= this.findProxies()),
    });
  }

  private get reporter(): TransferReporter | undefined {
    return this.session.ctx.transfers;
  }

  /** Routes the Jingle and IBB requests of a new stream here. */
  install(callee: IqCallee): void {
    callee.set(NS_JINGLE, 'jingle', ({ stanza, element }) => this.jingle.handle(element, String(stanza.attrs.from ?? '')));
    callee.set(NS_IBB, 'open', ({ stanza, element }) => this.ibb(stanza, element)?.open(element) ?? stanzaError('cancel', 'not-acceptable'));
    callee.set(NS_IBB, 'data', ({ stanza, element }) => this.ibb(stanza, element)?.data(element) ?? stanzaError('cancel', 'item-not-found'));
    callee.set(NS_IBB, 'close', ({ stanza, element }) => this.ibb(stanza, element)?.close() ?? stanzaError('cancel', 'item-not-found'));
  }

  private ibb(stanza: Element, element: Element) {
    return this.jingle.ibbStream(String(stanza.attrs.from ?? ''), String(element.attrs.sid ?? ''));
  }

  // ---- sending ----

  async send(file: OutgoingFile): Promise<void> {
    this.session.log.debug('Sending a file', { to: file.peer, size: file.size, method: this.method() });
    const peer = parseAddress(file.peer);
    if (peer === undefined || peer.local === '') throw new TransferError('transfer-not-supported', `"${file.peer}" is not a JID`);
    const method = this.method();
    if (method === 'auto' || method === 'upload') {
      const service = await this.uploadService();
      if (service !== undefined && (service.maxSize === undefined || file.size <= service.maxSize)) {
        await this.sendByUpload(file, service, peer.bare);
        return;
      }
      if (method === 'upload') {
        throw new TransferError(service === undefined ? 'transfer-not-supported' : 'transfer-too-large', service === undefined ? 'The server offers no HTTP file upload' : `The server takes files up to ${service.maxSize} bytes`);
      }
    }
    const { full, transports } = await this.jinglePeer(peer.resource === '' ? peer.bare : peer.full, peer.resource === '');
    const transport = method !== 'ibb' && transports.has(NS_JINGLE_S5B) ? 's5b' : 'ibb';
    this.session.log.debug('Offering a file by Jingle', { to: full, transport });
    await this.jingle.send(file, full, transport);
  }

  private uploadService(): Promise<UploadService | undefined> {
    const own = this.session.ownJid().domain;
    this.upload ??= this.disco.items(own).then((items) => findUploadService(this.session, own, items));
    return this.upload;
  }

  private async sendByUpload(file: OutgoingFile, service: UploadService, peer: string): Promise<void> {
    const slot = await requestSlot(this.session, service, file);
    const abort = new AbortController();
    this.uploads.set(file.id, abort);
    // The slot is ours: the peer has nothing to accept, so bytes flow at once.
    this.reporter?.accepted(file.id);
    void (async () => {
      try {
        await uploadFile(this.session.ctx.net, slot, file, abort.signal, (bytes) => this.reporter?.progress(file.id, bytes));
        const link = slot.get.href;
        await this.session.send(xml('message', { to: peer, type: 'chat', id: randomBytes(9).toString('base64url') }, xml('body', {}, link), oobElement(link, file.description)));
        this.reporter?.completed(file.id, { url: link });
      } catch (error) {
        if (!abort.signal.aborted) this.reporter?.failed(file.id, asTransferError(error));
      } finally {
        this.uploads.delete(file.id);
      }
    })();
  }

  /** One of the peer's online clients that does Jingle file transfer, and the transports it names. */
  private async jinglePeer(jid: string, bare: boolean): Promise<{ full: string; transports: Set<string> }> {
    const candidates = bare ? this.presence.resourcesOf(jid).map((resource) => `${jid}/${resource}`) : [jid];
    for (const full of candidates) {
      const info = await this.disco.info(full);
      this.session.log.debug('Peer client features', { jid: full, jingle: info.features.has(NS_JINGLE_FT), features: info.features.size });
      if (info.features.has(NS_JINGLE_FT)) return { full, transports: info.features };
    }
    throw new TransferError('transfer-not-supported', candidates.length === 0 ? `${jid} is not online, and the server offers no file upload` : `${jid} uses no client that takes files directly (Jingle)`);
  }

  private async findProxies(): Promise<Candidate[]> {
    const own = this.session.ownJid().domain;
    const found: Candidate[] = [];
    for (const item of await this.disco.items(own)) {
      const info = await this.disco.info(item);
      if (!info.identities.some((i) => i.category === 'proxy' && i.type === 'bytestreams')) continue;
      const address = await streamhostOf(this.session, item);
      if (address !== undefined) found.push({ cid: '', jid: item, host: address.host, port: address.port, priority: 0, type: 'proxy' });
    }
    return found;
  }

  // ---- receiving ----

  /** A message with an OOB link becomes an offer to download it. Returns whether it had one. */
  handleMessage(stanza: Element): boolean {
    if (stanza.attrs.type === 'error' || stanza.attrs.type === 'groupchat') return false;
    const link = readOobLink(stanza);
    const from = parseAddress(stanza.attrs.from as string | undefined);
    if (link === undefined || from === undefined || this.reporter === undefined) return false;
    const id = `oob:${randomBytes(9).toString('base64url')}`;
    this.links.set(id, { url: link.url, abort: new AbortController() });
    this.reporter.offered(oobOffer(id, from.bare, link));
    return true;
  }

  async accept(id: string, target: FileTarget): Promise<void> {
    const link = this.links.get(id);
    if (link !== undefined) {
      void downloadLink(this.session.ctx.net, link.url, target, link.abort.signal, (bytes) => this.reporter?.progress(id, bytes)).then(
        () => {
          this.links.delete(id);
          this.reporter?.completed(id);
        },
        (error: unknown) => {
          this.links.delete(id);
          if (!link.abort.signal.aborted) this.reporter?.failed(id, asTransferError(error));
        },
      );
      return;
    }
    await this.jingle.accept(id, target);
  }

  async decline(id: string): Promise<void> {
    if (this.links.delete(id)) return;
    await this.jingle.decline(id);
  }

  async cancel(id: string): Promise<void> {
    const link = this.links.get(id);
    if (link !== undefined) {
      link.abort.abort();
      this.links.delete(id);
      return;
    }
    const upload = this.uploads.get(id);
    if (upload !== undefined) {
      upload.abort();
      this.uploads.delete(id);
      return;
    }
    await this.jingle.cancel(id);
  }

  /** The stream is gone: stop everything under way. */
  closeAll(): void {
    for (const { abort } of this.links.values()) abort.abort();
    for (const abort of this.uploads.values()) abort.abort();
    this.links.clear();
    this.uploads.clear();
    this.jingle.closeAll();
    this.upload = undefined;
    this.proxies = undefined;
  }
}

function asTransferError(error: unknown): Error {
  if (error instanceof TransferError) return error;
  if (error instanceof Error && error.name === 'ConnectionError') return error;
  return new TransferError('transfer-failed', error instanceof Error ? error.message : String(error), { cause: error });
}
