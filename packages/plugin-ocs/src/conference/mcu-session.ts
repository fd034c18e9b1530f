/**
 * A session with a conference's IM MCU ([MS-CONFIM] 3.1): an INVITE with
 * the same `m=message` offer as a two-party IM, then MESSAGE requests in
 * that dialog, which the MCU relays to every other participant; what
 * others say comes back as MESSAGEs from the MCU naming the author in
 * `ms-sender`. Typing notices are INFO requests in the dialog. BYE ends it;
 * a BYE from the MCU means it dropped us. The MCU numbers each message in
 * its answer (`Message-Id`) and reports later, in an `ms-imdn+xml`
 * BENOTIFY, the participants it could not relay it to: the core is told
 * which message missed whom.
 */
import { MessageError, type ConnectionContext, type OutgoingMessage, type TypingState } from '@parley/core';
import { fromHtml } from '../html.js';
import type { IncomingRequest, SipEndpoint, SipResponse } from '../sip/endpoint.js';
import { SipRequestTimeout } from '../sip/endpoint.js';
import { headerValue, type RawMessage } from '../sip/headers.js';
import { parseMultipart } from '../sip/multipart.js';
import { IS_COMPOSING_TYPE, isComposing, parseTyping } from '../typing.js';
import { failureReason, IMDN_TYPE, parseImdn, undelivered } from './imdn.js';
import { oneLine } from './c3p.js';
import { ConferenceError } from './conference-error.js';
import { InviteDialog, type Body } from './dialog.js';
import { participantAddress } from './uri.js';

export interface McuOptions {
  endpoint: SipEndpoint;
  ctx: Pick<ConnectionContext, 'receiveMessage' | 'messageNotDelivered' | 'chats' | 'log'>;
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

/** Message ids of ours the MCU may still report on, per session (the oldest are forgotten first). */
const MAX_AWAITED_REPORTS = 500;

export class McuSession {
  private dialog: InviteDialog;
  private left = false;
  /** The MCU's Message-Id of each message we sent in this dialog → the message's text, for a core without delivery reports. */
  private readonly awaitingReport = new Map<string, string>();

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
    return ['v=0', `o=- 0 0 IN IP4 ${address}`, 's=session', `c=IN IP4 ${address}`, 't=0 0', `m=message ${port} sip null`, `a=accept-types:text/plain text/html application/im-iscomposing+xml ${IMDN_TYPE}`, ''].join('\r\n');
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

  /** The protocol id of a message we sent: the MCU's Message-Id, in this dialog. */
  private protocolId(messageId: string): string {
    return `${this.dialog.callId}/sent/${messageId}`;
  }

  /** Sends to the conference; resolves with the message's protocol id when the MCU numbered it (for its delivery report). */
  async send(message: OutgoingMessage): Promise<string | undefined> {
    const body: Body = message.formatted ? { contentType: 'text/html; charset=UTF-8', content: message.formatted.html } : { contentType: 'text/plain; charset=UTF-8', content: message.text };
    if (!this.dialog.open) throw new MessageError('send-failed', 'Not sent: not connected to the conference');
    let response: SipResponse;
    try {
      response = await this.dialog.request('MESSAGE', body);
    } catch (error) {
      throw new MessageError('send-failed', `Not sent: ${error instanceof SipRequestTimeout ? 'the conference did not answer' : (error as Error).message}`, { cause: error });
    }
    if (response.status < 200 || response.status >= 300) throw new MessageError('send-failed', `Not sent: the conference refused it (${oneLine(`${response.status} ${response.reason}`)})`);
    const messageId = oneLine(headerValue(response.raw, 'Message-Id') ?? '');
    if (messageId === '' || messageId.length > 200) return undefined;
    this.awaitingReport.delete(messageId);
    this.awaitingReport.set(messageId, message.text);
    if (this.awaitingReport.size > MAX_AWAITED_REPORTS) this.awaitingReport.delete(this.awaitingReport.keys().next().value!);
    return this.protocolId(messageId);
  }

  /**
   * A delivery report ([MS-CONFIM] 3.3.5.2): each recipient the message
   * did not reach goes to the core, grouped by why. A report that cannot be
   * read, or for a message we did not send here, changes nothing.
   */
  private deliveryReport(body: string): boolean {
    const { ctx } = this.o;
    let report;
    try {
      report = parseImdn(body);
    } catch (error) {
      ctx.log.warn(`Ignoring a conference delivery report that cannot be read: ${(error as Error).message}`);
      return false;
    }
    const text = this.awaitingReport.get(report.messageId);
    if (text === undefined) {
      ctx.log.debug(`Ignoring a conference delivery report for a message we did not send (${report.messageId})`);
      return true;
    }
    this.awaitingReport.delete(report.messageId);
    const byReason = new Map<string, string[]>();
    for (const r of report.recipients.filter(undelivered)) {
      const reason = failureReason(r);
      byReason.set(reason, [...(byReason.get(reason) ?? []), r.address ?? 'a participant the server did not name']);
    }
    for (const [reason, recipients] of byReason) {
      if (ctx.messageNotDelivered) ctx.messageNotDelivered(this.protocolId(report.messageId), { recipients, reason });
      else ctx.chats.system(this.o.room(), `Not delivered to ${recipients.join(', ')}: ${reason}: "${text.length > 80 ? `${text.slice(0, 80)}…` : text}"`, true);
    }
    return true;
  }

  /**
   * Our typing to the conference: an INFO with an RFC 3994 isComposing
   * document in the MCU's dialog, which the MCU relays to every other
   * participant ([MS-CONFIM]). Best effort: typing is never worth an error.
   */
  async typing(state: TypingState): Promise<void> {
    if (!this.dialog.open || this.left) return;
    await this.dialog.request('INFO', { contentType: IS_COMPOSING_TYPE, content: isComposing(state) }).catch(() => undefined);
  }

  /** A typing notice the MCU relayed: its author is `ms-sender` (else From); a body that is no typing document is dropped. */
  private participantTyping(raw: RawMessage): void {
    const state = parseTyping(headerValue(raw, 'Content-Type') ?? '', raw.body);
    const sender = participantAddress(headerValue(raw, 'ms-sender') ?? '') ?? participantAddress(headerValue(raw, 'From') ?? '');
    if (state === undefined || !sender) return;
    this.o.ctx.chats.typing?.(this.o.room(), sender, state);
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
      case 'NOTIFY':
      case 'BENOTIFY': {
        const type = (headerValue(raw, 'Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
        const read = type === IMDN_TYPE ? this.deliveryReport(raw.body) : (ctx.log.warn(`Ignoring a ${method} of type ${oneLine(type) || 'none'} from the conference's IM service`), false);
        // A BENOTIFY is never answered ([MS-SIP] 3.5); a NOTIFY is, with whether it could be read.
        if (method === 'NOTIFY') await (read ? endpoint.respond(request, 200, 'OK') : endpoint.respond(request, 400, 'Bad Request'));
        return true;
      }
      case 'INFO':
        // Another participant's typing, relayed by the MCU with its author in ms-sender; other INFOs are answered and dropped.
        await endpoint.respond(request, 200, 'OK');
        this.participantTyping(raw);
        return true;
      case 'MESSAGE': {
        const type = headerValue(raw, 'Content-Type') ?? 'text/plain';
        if (parseTyping(type.toLowerCase(), raw.body) !== undefined) {
          await endpoint.respond(request, 200, 'OK');
          this.participantTyping(raw);
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
