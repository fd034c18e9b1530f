/**
 * C3P, the Centralized Conference Control Protocol ([MS-CONFPRO],
 * `application/cccp+xml`): the requests a client sends to the focus factory
 * (addConference) and to a focus (addUser, deleteUser, modifyConference),
 * the responses it reads back, and the `application/ms-conf-invite+xml`
 * document that invites someone into a conference. Everything put in a
 * request is escaped; everything read from a response is checked before
 * it is used.
 */
import { randomBytes } from 'node:crypto';
import { child, children, DocumentError, escapeXml, parseXml, textAt, type XmlElement } from '../xml.js';
import { isFocusUri, isSafeSipUri } from './uri.js';

export const C3P_TYPE = 'application/cccp+xml';
export const CONF_INVITE_TYPE = 'application/ms-conf-invite+xml';
export const CCCP_NS = 'urn:ietf:params:xml:ns:cccp';
export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';
export const MSCP_NS = 'http://schemas.microsoft.com/rtc/2005/08/cccpextensions';
export const MSCI_NS = 'http://schemas.microsoft.com/rtc/2005/08/confinfoextensions';

const header = (to: string, from: string, requestId: number) =>
  `<?xml version="1.0"?><request xmlns="${CCCP_NS}" xmlns:mscp="${MSCP_NS}" C3PVersion="1" to="${escapeXml(to)}" from="${escapeXml(from)}" requestId="${requestId}">`;

/** A conference id as Communicator makes them: 32 upper-case hex digits. */
export function newConferenceId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** An endpoint GUID for addUser, in braces as Communicator writes it. */
export function newEndpointGuid(): string {
  const h = randomBytes(16).toString('hex').toUpperCase();
  return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
}

/**
 * addConference to the focus factory ([MS-CONFBAS] 3.1.5.1): an ad-hoc
 * conference with an IM MCU (the `chat` entity view), open to
 * authenticated users, expiring after `hours`.
 */
export function addConferenceRequest(options: { factoryUri: string; from: string; requestId: number; conferenceId: string; subject?: string; hours?: number; now?: Date }): string {
  const expiry = new Date((options.now ?? new Date()).getTime() + (options.hours ?? 7) * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    header(options.factoryUri, options.from, options.requestId) +
    `<addConference><ci:conference-info xmlns:ci="${CONFERENCE_INFO_NS}" entity="" xmlns:msci="${MSCI_NS}">` +
    `<ci:conference-description><ci:subject>${escapeXml(options.subject ?? '')}</ci:subject>` +
    `<msci:conference-id>${escapeXml(options.conferenceId)}</msci:conference-id>` +
    `<msci:expiry-time>${expiry}</msci:expiry-time>` +
    `<msci:admission-policy>openAuthenticated</msci:admission-policy></ci:conference-description>` +
    `<msci:conference-view><msci:entity-view entity="chat"/></msci:conference-view>` +
    `</ci:conference-info></addConference></request>`
  );
}

/** addUser to a focus (in the body of the INVITE that joins it, [MS-CONFBAS] 3.2.5.1). */
export function addUserRequest(options: { focusUri: string; from: string; requestId: number; endpoint: string; role?: 'attendee' | 'presenter' }): string {
  return (
    header(options.focusUri, options.from, options.requestId) +
    `<addUser><conferenceKeys confEntity="${escapeXml(options.focusUri)}"/>` +
    `<ci:user xmlns:ci="${CONFERENCE_INFO_NS}" entity="${escapeXml(options.from)}">` +
    `<ci:roles><ci:entry>${options.role ?? 'attendee'}</ci:entry></ci:roles>` +
    `<ci:endpoint entity="${escapeXml(options.endpoint)}" xmlns:msci="${MSCI_NS}"/>` +
    `</ci:user></addUser></request>`
  );
}

/** modifyConference with a new subject (an INFO in the focus dialog). */
export function setSubjectRequest(options: { focusUri: string; from: string; requestId: number; subject: string }): string {
  return (
    header(options.focusUri, options.from, options.requestId) +
    `<modifyConference><conferenceKeys confEntity="${escapeXml(options.focusUri)}"/>` +
    `<ci:conference-info xmlns:ci="${CONFERENCE_INFO_NS}" entity="${escapeXml(options.focusUri)}">` +
    `<ci:conference-description><ci:subject>${escapeXml(options.subject)}</ci:subject></ci:conference-description>` +
    `</ci:conference-info></modifyConference></request>`
  );
}

export type C3pCode = 'success' | 'pending' | 'failure';

export interface C3pResponse {
  requestId: string;
  code: C3pCode;
  /** The command answered: addConference, addUser, … */
  command: string;
  /** addConference: the new conference's focus URI. */
  focusUri?: string;
  /** failure: why, in the server's words (one line). */
  reason?: string;
}

/** One line of at most 300 characters of the server's text, for messages shown to the user. */
export function oneLine(text: string): string {
  const line = text.replace(/[\x00-\x1f\x7f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Reads a C3P response. A body that is not XML is an XmlError (a truncated
 * response is one), XML that is not a C3P response a DocumentError; a
 * focus URI that could not safely be used is left out.
 */
export function parseC3pResponse(body: string): C3pResponse {
  const doc = parseXml(body, { maxChars: 200_000 });
  if (doc.name !== 'response') throw new DocumentError(`Expected a C3P response, got <${doc.name}>`);
  const rawCode = (doc.attrs.code ?? '').toLowerCase();
  const code: C3pCode = rawCode === 'success' || rawCode === 'pending' ? rawCode : 'failure';
  const command = doc.children.find((c) => c.ns === CCCP_NS || c.ns === '')?.name ?? '';
  const result: C3pResponse = { requestId: oneLine(doc.attrs.requestId ?? ''), code, command };
  const info: XmlElement | undefined = child(doc, 'addConference/conference-info');
  const entity = info?.attrs.entity?.trim();
  if (entity && isSafeSipUri(entity) && isFocusUri(entity)) result.focusUri = entity;
  if (code === 'failure') {
    const reason = doc.attrs.reason ?? textAt(doc, 'reason') ?? textAt(doc, 'error') ?? children(doc, command)[0]?.attrs.reason;
    result.reason = oneLine(reason ?? (rawCode === '' ? 'no result code' : rawCode));
  }
  return result;
}

export interface ConferenceInvitation {
  focusUri: string;
  subject?: string;
  /** The invitation offers instant messaging (the only modality Parley takes). */
  im: boolean;
}

/** An `ms-conf-invite` INVITE's body ([MS-CONFIM] 2.2.1): who to join and what about. */
export function conferenceInviteBody(focusUri: string, subject = ''): string {
  return `<Conferencing version="2.0"><focus-uri>${escapeXml(focusUri)}</focus-uri><subject>${escapeXml(subject)}</subject><im available="true"><first-im/></im></Conferencing>`;
}

/** Reads an invitation; throws XmlError / DocumentError when it cannot be used. */
export function parseConferenceInvite(body: string): ConferenceInvitation {
  const doc = parseXml(body, { maxChars: 50_000 });
  if (doc.name !== 'Conferencing') throw new DocumentError(`Expected a conference invitation, got <${doc.name}>`);
  const focus = textAt(doc, 'focus-uri') ?? '';
  if (!isSafeSipUri(focus) || !isFocusUri(focus)) throw new DocumentError('The conference invitation names no usable focus URI');
  const subject = oneLine(textAt(doc, 'subject') ?? '');
  const im = child(doc, 'im');
  return { focusUri: focus, ...(subject ? { subject } : {}), im: im === undefined || im.attrs.available !== 'false' };
}
