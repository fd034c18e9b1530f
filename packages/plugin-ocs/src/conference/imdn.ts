/**
 * Delivery reports from a conference's IM MCU ([MS-CONFIM] 2.2.2, 3.3.5):
 * the MCU answers a MESSAGE at once with a `Message-Id` header, relays it to
 * the other participants, and then tells the sender how each relay went in
 * an `application/ms-imdn+xml` document (in a BENOTIFY in the MCU's
 * dialog): the message id and, per recipient, the SIP status of the relay.
 * A status that is missing, not a number, or not 2xx means the message did
 * not reach that recipient, as Communicator and pidgin-sipe read it.
 */
import { children, DocumentError, parseXml, textAt } from '../xml.js';
import { oneLine } from './c3p.js';
import { participantAddress } from './uri.js';

export const IMDN_TYPE = 'application/ms-imdn+xml';
export const IMDN_NS = 'http://schemas.microsoft.com/rtc/2005/08/imdn';
/** Most recipients read from one report (a conference has at most a few hundred participants). */
const MAX_RECIPIENTS = 1000;

export interface ImdnRecipient {
  /** user@host; undefined when the report names no usable address. */
  address: string | undefined;
  /** The relay's SIP status; undefined when the report gives none that is a number. */
  status: number | undefined;
  /** Why, from the ms-diagnostics entry's reason (one line), when there is one. */
  reason?: string;
}

export interface ImdnReport {
  messageId: string;
  recipients: ImdnRecipient[];
}

/** `<sip:bob@example.com;opaque=...;gruu>` (or without brackets) → bob@example.com. */
function recipientAddress(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  return participantAddress(uri.trim().replace(/^<\s*/, '').split(/[;?>]/)[0]!.trim());
}

function diagnosticsReason(value: string): string | undefined {
  const reason = /reason="([^"]*)"/i.exec(value)?.[1];
  return reason === undefined ? undefined : oneLine(reason).slice(0, 200) || undefined;
}

/** Reads a report; throws XmlError / DocumentError when it is not one. */
export function parseImdn(body: string): ImdnReport {
  const doc = parseXml(body, { maxChars: 200_000, maxDepth: 8 });
  if (doc.name !== 'imdn') throw new DocumentError(`Expected a delivery report, got <${doc.name}>`);
  const messageId = oneLine(textAt(doc, 'message-id') ?? '');
  if (messageId === '' || messageId.length > 200) throw new DocumentError('The delivery report names no usable message');
  const recipients = children(doc, 'recipient')
    .slice(0, MAX_RECIPIENTS)
    .map((r): ImdnRecipient => {
      const text = (textAt(r, 'status') ?? '').trim();
      const status = /^\d{1,3}$/.test(text) ? Number(text) : undefined;
      let reason: string | undefined;
      for (const entry of children(r, 'entry')) {
        if ((textAt(entry, 'key') ?? '').trim().toLowerCase() === 'ms-diagnostics') reason = diagnosticsReason(textAt(entry, 'value') ?? '');
      }
      return { address: recipientAddress(r.attrs.uri), status, ...(reason ? { reason } : {}) };
    });
  return { messageId, recipients };
}

/** A relay that did not reach its recipient (no status, or not 2xx). */
export function undelivered(recipient: ImdnRecipient): boolean {
  return recipient.status === undefined || recipient.status < 200 || recipient.status >= 300;
}

/** Why a relay failed, for people: the status and its meaning, and the server's reason. */
export function failureReason(recipient: ImdnRecipient): string {
  const meaning: Record<number, string> = { 408: 'did not answer in time', 480: 'is not available', 404: 'does not exist', 486: 'is busy', 481: 'has left the conversation', 603: 'declined it' };
  const base = recipient.status === undefined ? 'the conference service could not deliver it' : `${recipient.status}${meaning[recipient.status] ? ` (${meaning[recipient.status]})` : ''}`;
  return recipient.reason ? `${base}: ${recipient.reason}` : base;
}
