/**
 * A session with a conference's IM MCU ([MS-CONFIM] 3.1): an INVITE with
 * the same `m=message` offer as a two-party IM, then MESSAGE requests in
 * that dialog, which the MCU relays to every other participant; what
 * others say comes back as MESSAGEs from the MCU naming the author in
 * `ms-sender`. Typing notices are INFO requests in the dialog. BYE ends it;
 * a BYE from the MCU means it dropped us.
 */
import { MessageError, type ConnectionContext, type OutgoingMessage } from '@parley/core';
import { fromHtml } from '../html.js';
import type { IncomingRequest, SipEndpoint, SipResponse } from '../sip/endpoint.js';
import { SipRequestTimeout } from '../sip/endpoint.js';
import { headerValue } from '../sip/headers.js';
import { parseMultipart } from '../sip/multipart.js';
import { parseTyping } from '../typing.js';
import { oneLine } from './c3p.js';
import { ConferenceError } from './conference-error.js';
import { InviteDialog, type Body } from './dialog.js';
import { participantAddress } from './uri.js';

export interface McuOptions {
  endpoint: SipEndpoint;
  ctx: Pick<ConnectionContext, 'receiveMessage' | 'log'>;
  contact: () => string;
  local: () => { address: string; port: number };
  chatUri: string;
  /** The room name the core knows the chat by. */
  room: () => string;
  /** The MCU ended the session (BYE). */
  onDropped(): void;
}

/** The text of a message body: plain, HTML, or the best part of a multipart/alternative. */
export function messageText(contentType: string, body: string): { text: string; formatted?: ReturnType<typeof fromHtml>['formatted'] } | undefined {
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  if (base === 'text/plain') return { text: body };
  if (base === 'text/html') return fromHtml(body);
  if (base === 'multipart/alternative') {
    let parts;
    try {
      parts = parseMultipart(contentType, body, 20);
    } catch {
      return undefined;
    }
    const pick = (type: string) => parts.find((p) => p.contentType.split(';')[0]!.trim().toLowerCase() === type);
    const part = pick('text/html') ?? pick('text/plain');
    return part ? messageText(part.contentType, part.body) : undefined;
  }
  return undefined;
}

export class McuSession {
  private dialog: InviteDialog;
  private left = false;

  constructor(private readonly o: McuOptions) {
    this.dialog = new InviteDialog(o.endpoint, o.contact, o.chatUri);
  }

  get callId(): string {
    return this.dialog.callId;
  }

  get open(): boolean {
    return this.dialog.open;
  }

  private sdp(): string {
    const { address, port } = this.o.local();
    return ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=session', `c=IN IP4 ${address}`, 't=0 0', `m=message ${port} sip null`, 'a=accept-types:text/plain text/html application/im-iscomposing+xml', ''].join('\r\n');
  }

  async join(): Promise<void> {
    this.dialog = new InviteDialog(this.o.endpoint, this.o.contact, this.o.chatUri);
    let response: SipResponse;
    try {
      response = await this.dialog.invite(['Supported: ms-sender', 'Supported: ms-text-format'], { contentType: 'application/sdp', content: this.sdp() });
    } catch (error) {
      throw new ConferenceError(error instanceof SipRequestTimeout ? "The conference's IM service did not answer" : `Joining the conference's IM service failed: ${(error as Error).message}`, undefined, { cause: error });
    }
    if (response.status < 200 || response.status >= 300) throw new ConferenceError(`The conference's IM service refused us: ${oneLine(`${response.status} ${response.reason}`)}`, response.status);
    this.left = false;
  }

  async send(message: OutgoingMessage): Promise<void> {
    const body: Body = message.formatted ? { contentType: 'text/html; charset=UTF-8', content: message.formatted.html } : { contentType: 'text/plain; charset=UTF-8', content: message.text };
    if (!this.dialog.open) throw new MessageError('send-failed', 'Not sent: not connected to the conference');
    let response: SipResponse;
    try {
      response = await this.dialog.request('MESSAGE', body);
    } catch (error) {
      throw new MessageError('send-failed', `Not sent: ${error instanceof SipRequestTimeout ? 'the conference did not answer' : (error as Error).message}`, { cause: error });
    }
    if (response.status < 200 || response.status >= 300) throw new MessageError('send-failed', `Not sent: the conference refused it (${oneLine(`${response.status} ${response.reason}`)})`);
  }

  /** A request from the MCU; false when it is not in this session's dialog. */
  async handle(request: IncomingRequest): Promise<boolean> {
    const raw = request.raw;
    if (headerValue(raw, 'Call-ID') !== this.dialog.callId) return false;
    const method = request.message.method;
    const { endpoint, ctx } = this.o;
    switch (method) {
      case 'ACK':
        return true;
      case 'BYE':
        await endpoint.respond(request, 200, 'OK');
        this.dialog.open = false;
        if (!this.left) this.o.onDropped();
        return true;
      case 'INFO':
        // The core shows typing for one-to-one conversations only; a group's typing notices are answered and dropped.
        await endpoint.respond(request, 200, 'OK');
        return true;
      case 'MESSAGE': {
        const type = headerValue(raw, 'Content-Type') ?? 'text/plain';
        if (parseTyping(type.toLowerCase(), raw.body) !== undefined) {
          await endpoint.respond(request, 200, 'OK');
          return true;
        }
        const content = messageText(type, raw.body);
        if (!content) {
          ctx.log.warn(`Refusing a conference message of type ${oneLine(type.split(';')[0]!)}`);
          await endpoint.respond(request, 415, 'Unsupported Media Type', ['Accept: text/plain, text/html, multipart/alternative']);
          return true;
        }
        const sender = participantAddress(headerValue(raw, 'ms-sender') ?? '') ?? participantAddress(headerValue(raw, 'From') ?? '');
        await endpoint.respond(request, 200, 'OK');
        if (!sender) {
          ctx.log.warn('Dropping a conference message with no sender');
          return true;
        }
        ctx.receiveMessage({ conversation: { kind: 'chat', room: this.o.room() }, sender, text: content.text, ...(content.formatted ? { formatted: content.formatted } : {}), protocolId: `${this.dialog.callId}/${request.message.cseq}` });
        return true;
      }
      default:
        await endpoint.respond(request, 405, 'Method Not Allowed');
        return true;
    }
  }

  async leave(timeoutMs = 3000): Promise<void> {
    this.left = true;
    await this.dialog.bye(timeoutMs);
  }

  forget(): void {
    this.left = true;
    this.dialog.open = false;
  }
}
