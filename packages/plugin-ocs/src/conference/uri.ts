/**
 * Conference addresses. A conference is known by its focus URI
 * ([MS-CONFBAS] 2.2.1: `sip:organizer@domain;gruu;opaque=app:conf:focus:id:ID`),
 * which is also the room name the core keeps for the chat. Users and
 * invitations may write it with a `conf:` or `meet:` prefix and a
 * `?conversation-id=…` query; the plugin keeps only the URI. Every URI that
 * will go into a Request-URI or a header is checked here first: it comes
 * from a user or a peer, and a line break or `>` in it would end the header.
 */
import { parseHttpUrl } from '@parley/core';
import { printable, OcsInputError } from '../address.js';

/** sip:user@host[:port] followed by URI parameters made of safe characters only. */
const SIP_URI = /^sip:[A-Za-z0-9._~!$&'*+%=-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?(?:;[A-Za-z0-9._~!$&'*+%:=-]+)*$/;
const MAX_URI = 512;

/** Whether `uri` may go on the wire as a conference or MCU URI. */
export function isSafeSipUri(uri: string): boolean {
  return uri.length <= MAX_URI && SIP_URI.test(uri);
}

/** The focus factory of an account ([MS-CONFBAS] 3.1.5.1): the user's own GRUU with the focus factory opaque. */
export function focusFactoryUri(selfUri: string): string {
  return `${selfUri};gruu;opaque=app:conf:focusfactory`;
}

/** Whether a URI names a conference focus (as opposed to a user or an MCU). */
export function isFocusUri(uri: string): boolean {
  return /;opaque=app:conf:focus:/i.test(uri);
}

/**
 * A Lync meeting link, `https://meet.<domain>/<organizer>/<id>`: the focus
 * of meeting `<id>` organized by `<organizer>@<domain>` (the first label of
 * the host names the web service, not the SIP domain).
 */
function fromMeetingLink(link: string): string | undefined {
  const url = parseHttpUrl(link);
  if (url === undefined) return undefined;
  const labels = url.hostname.split('.');
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (labels.length < 3 || parts.length < 2) return undefined;
  const [organizer, id] = parts.slice(-2) as [string, string];
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(organizer) || !/^[A-Za-z0-9]{1,64}$/.test(id)) return undefined;
  return `sip:${organizer.toLowerCase()}@${labels.slice(1).join('.')};gruu;opaque=app:conf:focus:id:${id}`;
}

/**
 * A focus URI from what a user typed or a peer sent: `sip:…`, `conf:sip:…`,
 * `meet:sip:…`, with or without angle brackets and a `?…` query, or a Lync
 * meeting link. Returns undefined when it is not a conference address that
 * is safe to use.
 */
export function parseConferenceUri(value: string): string | undefined {
  let uri = value.trim();
  if (/^https?:\/\//i.test(uri)) {
    const focus = fromMeetingLink(uri);
    return focus !== undefined && isSafeSipUri(focus) ? focus : undefined;
  }
  if (uri.startsWith('<') && uri.endsWith('>')) uri = uri.slice(1, -1).trim();
  uri = uri.replace(/^(?:conf|meet):/i, '');
  const query = uri.indexOf('?');
  if (query >= 0) uri = uri.slice(0, query);
  if (/^sip:/i.test(uri)) uri = `sip:${uri.slice(4)}`;
  if (!isSafeSipUri(uri) || !isFocusUri(uri)) return undefined;
  return uri;
}

/** As parseConferenceUri, but a user's mistake is an `ocs-invalid-address` error naming what was typed. */
export function conferenceUri(value: string): string {
  const uri = parseConferenceUri(value);
  if (uri === undefined) throw new OcsInputError('ocs-invalid-address', `${printable(value)} is not a conference address like conf:sip:user@company.com;gruu;opaque=app:conf:focus:id:ABC123`);
  return uri;
}

/** The conference id at the end of a focus URI, for titles and logs. */
export function conferenceId(focusUri: string): string {
  return /;opaque=app:conf:focus:id:([^;]+)/i.exec(focusUri)?.[1] ?? focusUri;
}

/** `user@host` of a participant's entity (`sip:user@host`), lower case; undefined for anything else. */
export function participantAddress(entity: string): string | undefined {
  const bare = entity.trim().replace(/^<|>$/g, '').replace(/^sips?:/i, '').split(/[;?>]/)[0]!;
  return /^[^@\s\x00-\x1f\x7f<>",;:]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(bare) ? bare.toLowerCase() : undefined;
}
