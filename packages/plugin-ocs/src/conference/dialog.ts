/**
 * An INVITE dialog this client opens (RFC 3261 12, 13): to a conference's
 * focus or to its IM MCU. It sends the INVITE, ACKs a 2xx, keeps the tags,
 * the remote target and the CSeq, sends requests inside the dialog and
 * ends it with BYE.
 */
import { randomBytes } from 'node:crypto';
import type { SipEndpoint, SipResponse } from '../sip/endpoint.js';
import { headerValue } from '../sip/headers.js';

const uriIn = (header: string | undefined) => /<([^>]+)>/.exec(header ?? '')?.[1] ?? (header ?? '').split(';')[0]!.trim();
const tagIn = (header: string | undefined) => /;\s*tag=([^;\s]+)/i.exec(header ?? '')?.[1];

export interface Body {
  contentType: string;
  content: string;
}

export class InviteDialog {
  readonly callId = randomBytes(12).toString('hex');
  readonly localTag = randomBytes(5).toString('hex');
  remoteTag = '';
  remoteTarget: string;
  private cseq = 0;
  open = false;

  constructor(
    private readonly endpoint: SipEndpoint,
    private readonly contact: () => string,
    /** The URI invited (the focus or the MCU): Request-URI of the INVITE, To of every request. */
    readonly uri: string,
  ) {
    this.remoteTarget = uri;
  }

  /** Sends the INVITE; on a 2xx the dialog is open and ACKed. Resolves with the final response either way. */
  async invite(headers: string[], body: Body, timeoutMs?: number): Promise<SipResponse> {
    const cseq = ++this.cseq;
    const response = await this.endpoint.invite(this.uri, { to: this.uri, callId: this.callId, cseq, fromTag: this.localTag, extraHeaders: [this.contact(), ...headers], body, timeoutMs });
    if (response.status < 200 || response.status >= 300) return response;
    this.remoteTag = tagIn(headerValue(response.raw, 'To')) ?? '';
    this.remoteTarget = uriIn(headerValue(response.raw, 'Contact')) || this.uri;
    this.open = true;
    await this.endpoint.ack(this.remoteTarget, { to: this.uri, callId: this.callId, cseq, fromTag: this.localTag, toTag: this.remoteTag, extraHeaders: [this.contact()] });
    return response;
  }

  async request(method: string, body?: Body, headers: string[] = [], timeoutMs?: number): Promise<SipResponse> {
    const response = await this.endpoint.request(method, this.remoteTarget, {
      to: this.uri,
      callId: this.callId,
      cseq: ++this.cseq,
      fromTag: this.localTag,
      toTag: this.remoteTag,
      extraHeaders: [this.contact(), ...headers],
      body,
      timeoutMs,
    });
    this.cseq = Math.max(this.cseq, response.cseq);
    return response;
  }

  /** Ends the dialog, best effort: a server that does not answer does not hold the caller. */
  async bye(timeoutMs = 3000): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.request('BYE', undefined, [], timeoutMs).catch(() => undefined);
  }
}
