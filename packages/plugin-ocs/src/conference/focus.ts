/**
 * A conference's focus ([MS-CONFBAS] 3.1, 3.2): the conference is created
 * at the account's focus factory with C3P addConference (a SERVICE
 * request); a participant joins the focus with an INVITE carrying addUser,
 * then follows the roster through the conference event package (SUBSCRIBE
 * `conference`), and leaves with BYE after ending the subscription.
 */
import type { Logger } from '@parley/core';
import type { IncomingRequest, SipEndpoint, SipResponse } from '../sip/endpoint.js';
import { SipRequestTimeout } from '../sip/endpoint.js';
import { headerValue } from '../sip/headers.js';
import type { Subscriptions } from '../sip/subscription.js';
import { DocumentError, XmlError } from '../xml.js';
import { addConferenceRequest, addUserRequest, C3P_TYPE, newConferenceId, newEndpointGuid, oneLine, parseC3pResponse, setSubjectRequest } from './c3p.js';
import { CONFERENCE_INFO_TYPE } from './conference-info.js';
import { ConferenceError } from './conference-error.js';
import { InviteDialog } from './dialog.js';
import { focusFactoryUri } from './uri.js';

let requestIds = Math.floor(Math.random() * 1_000_000);

/** Why a request failed, in the server's words where it gave some (ms-diagnostics reason). */
function refusal(response: SipResponse): string {
  const diagnostics = /reason="([^"]*)"/.exec(headerValue(response.raw, 'ms-diagnostics') ?? '')?.[1];
  return oneLine(`${response.status} ${response.reason}${diagnostics ? ` (${diagnostics})` : ''}`);
}

/** Reads a C3P answer, turning a broken or failed one into a ConferenceError. */
function c3pOutcome(response: SipResponse, what: string) {
  try {
    const answer = parseC3pResponse(response.raw.body);
    if (answer.code === 'failure') throw new ConferenceError(`${what} failed: ${answer.reason ?? 'no reason given'}`);
    return answer;
  } catch (error) {
    if (error instanceof XmlError || error instanceof DocumentError) throw new ConferenceError(`${what}: the server's answer cannot be read (${error.message})`, response.status, { cause: error });
    throw error;
  }
}

async function guarded(what: string, pending: Promise<SipResponse>): Promise<SipResponse> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof SipRequestTimeout) throw new ConferenceError(`${what}: the server did not answer`, undefined, { cause: error });
    throw new ConferenceError(`${what}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/** Creates an ad-hoc conference with an IM MCU; resolves with its focus URI. Every failure is a ConferenceError with `creating` set. */
export async function createConference(options: { endpoint: SipEndpoint; selfUri: string; contact: () => string; subject?: string }): Promise<string> {
  try {
    const factory = focusFactoryUri(options.selfUri);
    const body = addConferenceRequest({ factoryUri: factory, from: options.selfUri, requestId: ++requestIds, conferenceId: newConferenceId(), subject: options.subject });
    const response = await guarded('Creating the conference', options.endpoint.request('SERVICE', factory, { to: factory, extraHeaders: [options.contact(), 'Supported: ms-sender'], body: { contentType: C3P_TYPE, content: body } }));
    if (response.status < 200 || response.status >= 300) throw new ConferenceError(`The server refused to create a conference: ${refusal(response)}`, response.status);
    const answer = c3pOutcome(response, 'Creating the conference');
    if (!answer.focusUri) throw new ConferenceError('The server created a conference but gave no usable address for it');
    return answer.focusUri;
  } catch (error) {
    if (error instanceof ConferenceError) throw new ConferenceError(error.message, error.status, { cause: error.cause, creating: true });
    throw error;
  }
}

export interface FocusOptions {
  endpoint: SipEndpoint;
  subscriptions: Subscriptions;
  selfUri: string;
  contact: () => string;
  focusUri: string;
  log: Logger;
  /** A conference-info body from a NOTIFY (or piggybacked on the SUBSCRIBE's answer). */
  onConferenceInfo(body: string): void;
  /** The focus ended our part in the conference (a BYE from it, or the subscription ended). */
  onEnded(reason: string): void;
}

export class Focus {
  private dialog: InviteDialog;
  private readonly endpointGuid = newEndpointGuid();
  private subscribed = false;
  private left = false;

  constructor(private readonly o: FocusOptions) {
    this.dialog = new InviteDialog(o.endpoint, o.contact, o.focusUri);
  }

  get callId(): string {
    return this.dialog.callId;
  }

  /** INVITE with addUser, then the conference subscription. */
  async join(): Promise<void> {
    const { o } = this;
    const body = addUserRequest({ focusUri: o.focusUri, from: o.selfUri, requestId: ++requestIds, endpoint: this.endpointGuid });
    const response = await guarded('Joining the conference', this.dialog.invite(['Supported: ms-sender'], { contentType: C3P_TYPE, content: body }));
    if (response.status < 200 || response.status >= 300) throw new ConferenceError(`The conference refused us: ${refusal(response)}`, response.status);
    if (response.raw.body.trim() !== '') c3pOutcome(response, 'Joining the conference');
    await this.subscribe();
  }

  /** (Re)subscribes to the conference event package: the first NOTIFY carries the full state. */
  async subscribe(): Promise<void> {
    const { o } = this;
    if (this.subscribed) await o.subscriptions.unsubscribe('conference', o.focusUri, 3000);
    this.subscribed = true;
    const response = await guarded(
      'Following the conference',
      o.subscriptions.subscribe(
        {
          event: 'conference',
          uri: o.focusUri,
          accept: CONFERENCE_INFO_TYPE,
          headers: ['Supported: com.microsoft.autoextend', 'Supported: ms-benotify', 'Proxy-Require: ms-benotify', 'Supported: ms-piggyback-first-notify'],
        },
        (body, contentType) => {
          if (contentType.toLowerCase().startsWith(CONFERENCE_INFO_TYPE)) o.onConferenceInfo(body);
        },
        (reason) => {
          this.subscribed = false;
          if (!this.left) o.onEnded(`the conference ended our subscription (${oneLine(reason)})`);
        },
      ),
    ).catch((error: unknown) => {
      this.subscribed = false;
      throw error instanceof ConferenceError ? error : new ConferenceError(`The conference refused our subscription: ${(error as Error).message}`, undefined, { cause: error });
    });
    // ms-piggyback-first-notify: the full state may come in the answer itself.
    const type = (headerValue(response.raw, 'Content-Type') ?? '').toLowerCase();
    if (response.raw.body.trim() !== '' && type.startsWith(CONFERENCE_INFO_TYPE)) o.onConferenceInfo(response.raw.body);
  }

  /** A new subject, through modifyConference in the focus dialog. */
  async setSubject(subject: string): Promise<void> {
    const body = setSubjectRequest({ focusUri: this.o.focusUri, from: this.o.selfUri, requestId: ++requestIds, subject });
    const response = await guarded('Changing the subject', this.dialog.request('INFO', { contentType: C3P_TYPE, content: body }));
    if (response.status < 200 || response.status >= 300) throw new ConferenceError(`The conference refused the new subject: ${refusal(response)}`, response.status);
    if (response.raw.body.trim() !== '') c3pOutcome(response, 'Changing the subject');
  }

  /** A request in the focus dialog (a BYE when the focus removes us). Returns false when it is not ours. */
  async handle(request: IncomingRequest): Promise<boolean> {
    if (headerValue(request.raw, 'Call-ID') !== this.dialog.callId) return false;
    const method = request.message.method;
    if (method === 'ACK') return true;
    await this.o.endpoint.respond(request, method === 'BYE' || method === 'INFO' ? 200 : 405, method === 'BYE' || method === 'INFO' ? 'OK' : 'Method Not Allowed');
    if (method === 'BYE') {
      this.dialog.open = false;
      if (!this.left) this.o.onEnded('the conference ended');
    }
    return true;
  }

  /** Unsubscribes and leaves the focus (BYE), best effort. */
  async leave(timeoutMs = 3000): Promise<void> {
    this.left = true;
    if (this.subscribed) {
      this.subscribed = false;
      await this.o.subscriptions.unsubscribe('conference', this.o.focusUri, timeoutMs);
    }
    await this.dialog.bye(timeoutMs);
  }

  /** The connection is gone: forget the dialog without sending anything. */
  forget(): void {
    this.left = true;
    this.subscribed = false;
    this.dialog.open = false;
  }
}
