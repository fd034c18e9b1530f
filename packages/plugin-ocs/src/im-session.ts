/**
 * Instant messages. OCS / Lync ([MS-SIP] 3.3, as Communicator does it): an
 * INVITE carries the first message in `ms-text-format` (base64 body) and an
 * SDP offer `m=message <port> sip null`; after the 200 and our ACK, further
 * messages are MESSAGE requests in that dialog, typing is INFO, and BYE
 * closes it. Several dialogs at once, one per peer; a dialog the other side
 * closed is opened again by the next message. Plain SIP servers get
 * page-mode MESSAGE (RFC 3428) outside any dialog.
 */
import { randomBytes } from 'node:crypto';
import { MessageError, type ConnectionContext, type OutgoingMessage, type TypingState } from '@parley/core';
import { fromHtml } from './html.js';
import type { IncomingRequest, SipEndpoint, SipResponse } from './sip/endpoint.js';
import { SipRequestTimeout } from './sip/endpoint.js';
import { headerValue, headerValues, type RawMessage } from './sip/headers.js';
import { IS_COMPOSING_TYPE, isComposing, KEYBOARD_ACTIVITY_TYPE, keyboardActivity, parseTyping, TYPING_TIMEOUT_MS } from './typing.js';

interface Session {
  peer: string;
  callId: string;
  localTag: string;
  remoteTag: string;
  remoteTarget: string;
  cseq: number;
  open: boolean;
}

export interface ImOptions {
  endpoint: SipEndpoint;
  ctx: Pick<ConnectionContext, 'receiveMessage' | 'typing' | 'notice' | 'log'>;
  selfUri: string;
  contact: () => string;
  local: () => { address: string; port: number };
  /** 'dialog': OCS sessions; 'page': RFC 3428 MESSAGE outside dialogs. */
  mode: 'dialog' | 'page';
}

const bare = (uri: string) => uri.trim().replace(/^<|>$/g, '').replace(/^sips?:/i, '').split(/[;>]/)[0]!.toLowerCase();
const uriIn = (header: string | undefined) => /<([^>]+)>/.exec(header ?? '')?.[1] ?? (header ?? '').split(';')[0]!.trim();
const tagIn = (header: string | undefined) => /;\s*tag=([^;\s]+)/i.exec(header ?? '')?.[1];

/** Why a peer could not be reached, in words for the conversation. */
export function failureText(peer: string, status: number, reason: string): string {
  switch (status) {
    case 480:
      return `${peer} is offline or not available`;
    case 486:
    case 600:
      return `${peer} is busy and cannot take messages now`;
    case 603:
      return `${peer} declined the conversation`;
    case 404:
    case 604:
      return `${peer} does not exist on this server`;
    case 408:
      return `${peer} did not answer`;
    case 488:
    case 415:
      return `${peer} cannot receive this kind of message`;
    default:
      return `${peer} could not be reached (${status} ${reason})`;
  }
}

export class ImSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly typingTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: ImOptions) {}

  /** Sends in order per peer: a message waits for the session its predecessor opened. */
  send(peer: string, message: OutgoingMessage): Promise<void> {
    const key = bare(peer);
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() => this.sendNow(key, message));
    this.chains.set(key, run.catch(() => undefined));
    return run;
  }

  private body(message: OutgoingMessage): { contentType: string; content: string } {
    if (message.formatted) return { contentType: 'text/html; charset=UTF-8', content: message.formatted.html };
    return { contentType: 'text/plain; charset=UTF-8', content: message.text };
  }

  private async sendNow(peer: string, message: OutgoingMessage): Promise<void> {
    const body = this.body(message);
    if (this.options.mode === 'page') {
      const response = await this.guard(peer, this.options.endpoint.request('MESSAGE', `sip:${peer}`, { to: `sip:${peer}`, extraHeaders: [this.options.contact()], body }));
      this.check(peer, response);
      return;
    }
    const session = this.sessions.get(peer);
    if (session?.open) {
      const response = await this.guard(peer, this.inDialog(session, 'MESSAGE', body));
      // The other side closed the dialog without telling us (or the server forgot it): open a new one.
      if (response.status === 481 || response.status === 408 || response.status === 480) {
        session.open = false;
        this.options.ctx.log.info(`The conversation with ${peer} was closed on the other side; opening it again`);
        return this.invite(peer, body);
      }
      this.check(peer, response);
      return;
    }
    return this.invite(peer, body);
  }

  private async guard(peer: string, pending: Promise<SipResponse>): Promise<SipResponse> {
    try {
      return await pending;
    } catch (error) {
      if (error instanceof SipRequestTimeout) throw new MessageError('send-failed', `Not sent: ${failureText(peer, 408, 'timeout')}`, { cause: error });
      throw new MessageError('send-failed', `Not sent: ${(error as Error).message}`, { cause: error });
    }
  }

  private check(peer: string, response: SipResponse): void {
    if (response.status >= 200 && response.status < 300) return;
    throw new MessageError('send-failed', `Not sent: ${failureText(peer, response.status, response.reason)}`);
  }

  /** Our session description; `x-ms-message` answers an OCS 2005 client's offer in its own words. */
  private sdp(media: 'message' | 'x-ms-message' = 'message'): string {
    const { address, port } = this.options.local();
    return ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=session', `c=IN IP4 ${address}`, 't=0 0', `m=${media} ${port} sip null`, 'a=accept-types:text/plain text/html application/im-iscomposing+xml', ''].join('\r\n');
  }

  private async invite(peer: string, body: { contentType: string; content: string }): Promise<void> {
    const callId = randomBytes(12).toString('hex');
    const localTag = randomBytes(5).toString('hex');
    const format = body.contentType.split(';')[0];
    const response = await this.guard(
      peer,
      this.options.endpoint.invite(`sip:${peer}`, {
        to: `sip:${peer}`,
        callId,
        cseq: 1,
        fromTag: localTag,
        extraHeaders: [
          this.options.contact(),
          'Supported: ms-text-format',
          'Supported: ms-renders-mime-alternative',
          `ms-text-format: ${format}; charset=UTF-8; ms-body=${Buffer.from(body.content, 'utf8').toString('base64')}`,
          `EndPoints: <${this.options.selfUri}>, <sip:${peer}>`,
        ],
        body: { contentType: 'application/sdp', content: this.sdp() },
      }),
    );
    if (response.status < 200 || response.status >= 300) this.check(peer, response);
    const remoteTag = tagIn(headerValue(response.raw, 'To')) ?? '';
    const remoteTarget = uriIn(headerValue(response.raw, 'Contact')) || `sip:${peer}`;
    const session: Session = { peer, callId, localTag, remoteTag, remoteTarget, cseq: 1, open: true };
    this.sessions.set(peer, session);
    await this.options.endpoint.ack(remoteTarget, { to: `sip:${peer}`, callId, cseq: 1, fromTag: localTag, toTag: remoteTag, extraHeaders: [this.options.contact()] });
    // A client that showed the INVITE's message says so with `Supported: ms-text-format` in
    // its 200; one that did not (Communicator 2007 and pidgin-sipe outside multiparty
    // sessions) expects it again as the dialog's first MESSAGE.
    const supported = headerValues(response.raw, 'Supported').flatMap((v) => v.split(','));
    if (!supported.some((v) => v.trim().toLowerCase() === 'ms-text-format')) {
      this.check(peer, await this.guard(peer, this.inDialog(session, 'MESSAGE', body)));
    }
  }

  private async inDialog(session: Session, method: string, body?: { contentType: string; content: string }, timeoutMs?: number): Promise<SipResponse> {
    const response = await this.options.endpoint.request(method, session.remoteTarget, {
      to: `sip:${session.peer}`,
      callId: session.callId,
      cseq: ++session.cseq,
      fromTag: session.localTag,
      toTag: session.remoteTag,
      extraHeaders: [this.options.contact()],
      body,
      timeoutMs,
    });
    // An answered challenge used the next CSeq of the dialog.
    session.cseq = Math.max(session.cseq, response.cseq);
    return response;
  }

  /** Our typing state to the peer: INFO in the open dialog, or an isComposing MESSAGE for plain SIP. */
  async typing(peer: string, state: TypingState): Promise<void> {
    const key = bare(peer);
    if (this.options.mode === 'page') {
      await this.options.endpoint.request('MESSAGE', `sip:${key}`, { to: `sip:${key}`, extraHeaders: [this.options.contact()], body: { contentType: IS_COMPOSING_TYPE, content: isComposing(state) } });
      return;
    }
    const session = this.sessions.get(key);
    if (!session?.open) return; // Communicator only shows typing inside a conversation.
    await this.inDialog(session, 'INFO', { contentType: KEYBOARD_ACTIVITY_TYPE, content: keyboardActivity(state) });
  }

  /** Closes the conversation with a peer (BYE), best effort. */
  async close(peer: string, timeoutMs = 3000): Promise<void> {
    const key = bare(peer);
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    if (!session?.open) return;
    session.open = false;
    await this.inDialog(session, 'BYE', undefined, timeoutMs).catch(() => undefined);
  }

  async closeAll(timeoutMs = 2000): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((peer) => this.close(peer, timeoutMs)));
    for (const t of this.typingTimers.values()) clearTimeout(t);
    this.typingTimers.clear();
  }

  /**
   * Hands the open dialog with this Call-ID over to a group conversation (a
   * third person was added to it); the IM sessions forget it.
   */
  adopt(callId: string): { peer: string; localTag: string; remoteTag: string; remoteTarget: string; cseq: number } | undefined {
    for (const [peer, session] of this.sessions) {
      if (session.open && session.callId === callId) return this.release(peer, session);
    }
    return undefined;
  }

  /** Hands the open dialog with a peer over to a group conversation. */
  adoptWith(peer: string): { peer: string; callId: string; localTag: string; remoteTag: string; remoteTarget: string; cseq: number } | undefined {
    const session = this.sessions.get(bare(peer));
    return session?.open ? { ...this.release(bare(peer), session), callId: session.callId } : undefined;
  }

  private release(peer: string, session: Session) {
    this.sessions.delete(peer);
    return { peer, localTag: session.localTag, remoteTag: session.remoteTag, remoteTarget: session.remoteTarget, cseq: session.cseq };
  }

  /** Whether a dialog with this peer is open (for tests and diagnostics). */
  isOpen(peer: string): boolean {
    return this.sessions.get(bare(peer))?.open ?? false;
  }

  // ---- incoming ---------------------------------------------------------------

  /** Handles INVITE, MESSAGE, INFO, BYE, CANCEL and ACK; returns false for other methods. */
  async handle(request: IncomingRequest): Promise<boolean> {
    const method = request.message.method;
    const raw = request.raw;
    const peer = bare(uriIn(headerValue(raw, 'From')));
    switch (method) {
      case 'INVITE':
        await this.incomingInvite(request, peer);
        return true;
      case 'MESSAGE':
        await this.incomingMessage(request, peer);
        return true;
      case 'INFO': {
        const state = parseTyping(headerValue(raw, 'Content-Type') ?? '', raw.body);
        await this.options.endpoint.respond(request, 200, 'OK');
        if (state) this.peerTyping(peer, state);
        return true;
      }
      case 'BYE': {
        const session = this.sessions.get(peer);
        if (session && session.callId === headerValue(raw, 'Call-ID')) {
          session.open = false;
          this.sessions.delete(peer);
        }
        await this.options.endpoint.respond(request, 200, 'OK');
        this.peerTyping(peer, 'idle');
        return true;
      }
      case 'CANCEL':
        await this.options.endpoint.respond(request, 200, 'OK');
        return true;
      case 'ACK':
        return true;
      default:
        return false;
    }
  }

  private async incomingInvite(request: IncomingRequest, peer: string): Promise<void> {
    const raw = request.raw;
    const type = (headerValue(raw, 'Content-Type') ?? '').toLowerCase();
    // Only the IM session offer; audio, video and anything else are turned down clearly.
    const offered = /^m=(x-ms-message|message) \d+ sip /m.exec(raw.body)?.[1] as 'message' | 'x-ms-message' | undefined;
    if (!type.startsWith('application/sdp') || !offered) {
      const media = /^m=(\w+)/m.exec(raw.body)?.[1] ?? 'unknown';
      this.options.ctx.log.warn(`Declining an INVITE from ${peer} with an unsupported session offer (${media})`);
      await this.options.endpoint.respond(request, 488, 'Not Acceptable Here', ['Warning: 304 parley "Only instant messaging sessions are supported"']);
      this.options.ctx.notice(`${peer} tried to start ${/^[aeiou]/i.test(media) ? 'an' : 'a'} ${media} session, which is not supported`, { kind: 'im', peer }, true);
      return;
    }
    const localTag = randomBytes(5).toString('hex');
    const session: Session = {
      peer,
      callId: headerValue(raw, 'Call-ID') ?? '',
      localTag,
      remoteTag: tagIn(headerValue(raw, 'From')) ?? '',
      remoteTarget: uriIn(headerValue(raw, 'Contact')) || `sip:${peer}`,
      cseq: 0,
      open: true,
    };
    this.sessions.set(peer, session);
    await this.options.endpoint.respond(request, 200, 'OK', [this.options.contact(), 'Supported: ms-text-format'], {
      toTag: localTag,
      body: { contentType: 'application/sdp', content: this.sdp(offered) },
    });
    const first = this.textFormat(headerValue(raw, 'ms-text-format'));
    if (first) this.deliver(peer, first.type, first.body, `${headerValue(raw, 'Call-ID')}/${request.message.cseq}`);
  }

  /** `ms-text-format: text/plain; charset=UTF-8; ms-body=<base64>`. */
  private textFormat(header: string | undefined): { type: string; body: string } | undefined {
    if (!header) return undefined;
    const encoded = /;\s*ms-body=([A-Za-z0-9+/=\s]*)/i.exec(header)?.[1];
    if (encoded === undefined) return undefined;
    return { type: header.split(';')[0]!.trim(), body: Buffer.from(encoded.replace(/\s/g, ''), 'base64').toString('utf8') };
  }

  private async incomingMessage(request: IncomingRequest, peer: string): Promise<void> {
    const raw = request.raw;
    const type = (headerValue(raw, 'Content-Type') ?? 'text/plain').toLowerCase();
    const typing = parseTyping(type, raw.body);
    if (typing !== undefined) {
      await this.options.endpoint.respond(request, 200, 'OK');
      this.peerTyping(peer, typing);
      return;
    }
    const base = type.split(';')[0]!.trim();
    if (base !== 'text/plain' && base !== 'text/html') {
      this.options.ctx.log.warn(`Refusing a message from ${peer} of type ${base}`);
      await this.options.endpoint.respond(request, 415, 'Unsupported Media Type', ['Accept: text/plain, text/html, application/im-iscomposing+xml']);
      this.options.ctx.notice(`${peer} sent a message of a kind that cannot be shown (${base})`, { kind: 'im', peer }, true);
      return;
    }
    await this.options.endpoint.respond(request, 200, 'OK');
    this.deliver(peer, base, raw.body, `${headerValue(raw, 'Call-ID')}/${request.message.cseq}`);
  }

  private deliver(peer: string, type: string, body: string, protocolId: string): void {
    this.peerTyping(peer, 'idle');
    if (type.toLowerCase() === 'text/html') {
      const { text, formatted } = fromHtml(body);
      this.options.ctx.receiveMessage({ conversation: { kind: 'im', peer }, sender: peer, text, formatted, protocolId });
      return;
    }
    this.options.ctx.receiveMessage({ conversation: { kind: 'im', peer }, sender: peer, text: body, protocolId });
  }

  private peerTyping(peer: string, state: TypingState): void {
    clearTimeout(this.typingTimers.get(peer));
    this.typingTimers.delete(peer);
    this.options.ctx.typing(peer, state);
    if (state === 'typing') {
      // Communicator repeats its typing INFO while the user types; silence means they stopped.
      const timer = setTimeout(() => {
        this.typingTimers.delete(peer);
        this.options.ctx.typing(peer, 'idle');
      }, TYPING_TIMEOUT_MS);
      timer.unref();
      this.typingTimers.set(peer, timer);
    }
  }
}

export type { RawMessage };
