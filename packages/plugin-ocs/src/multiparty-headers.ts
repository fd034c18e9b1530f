/**
 * The headers of multiparty IM without an MCU (Office Communicator 2005's
 * group conversations, still spoken by pidgin-sipe): `EndPoints` lists every
 * party of the conversation, `Roster-Manager` names the party that invites
 * newcomers, `TriggeredInvite: TRUE` marks the INVITE a newcomer sends to
 * each party it learnt of, and `Require: com.microsoft.rtc-multiparty` says
 * the INVITE belongs to such a conversation. Everything here comes from a
 * peer: an entry that is not a plain SIP address is dropped, never repaired,
 * and the list is bounded so that a hostile header cannot make Parley invite
 * hundreds of addresses.
 */
import { isPeerAddress } from './address.js';
import { headerValue, headerValues, type RawMessage } from './sip/headers.js';

export const MULTIPARTY_REQUIRE = 'com.microsoft.rtc-multiparty';
/** Most parties Parley takes part with in one group conversation without an MCU. */
export const MAX_PARTIES = 32;
/** Longest EndPoints header read (a longer one is refused as a whole). */
const MAX_ENDPOINTS_HEADER = 8192;

export interface Endpoint {
  /** user@host in lower case. */
  address: string;
  /** The endpoint id Communicator adds (`;epid=`), when it is a plain token. */
  epid?: string;
}

export interface EndpointList {
  endpoints: Endpoint[];
  /** Entries dropped because they were not plain SIP addresses. */
  rejected: number;
  /** More distinct parties than MAX_PARTIES, or a header too long to read: refuse the conversation. */
  tooMany: boolean;
}

/** Splits on commas outside quotes and angle brackets. */
function splitList(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  let bracket = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      if (c === '\\' && i + 1 < value.length) {
        current += c + value[++i]!;
        continue;
      }
      if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') bracket = true;
    else if (c === '>') bracket = false;
    else if (c === ',' && !bracket) {
      items.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  items.push(current);
  return items.map((i) => i.trim()).filter((i) => i !== '');
}

/**
 * The address in one name-addr (`"Name" <sip:bob@host;gruu>;epid=x`) or
 * addr-spec, user@host in lower case; undefined when it is anything else
 * (another scheme, control characters, a `>` or quote inside).
 */
export function addressOf(item: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(item)) return undefined;
  const bracketed = /<([^<>]*)>/.exec(item);
  const uri = (bracketed ? bracketed[1]! : item.split(';')[0]!).trim();
  if (!/^sips?:/i.test(uri)) return undefined;
  const bare = uri.replace(/^sips?:/i, '').split(';')[0]!;
  return isPeerAddress(bare) ? bare.toLowerCase() : undefined;
}

/** Reads an EndPoints header: each distinct party once, in the order given. */
export function parseEndPoints(value: string | undefined): EndpointList {
  if (value === undefined) return { endpoints: [], rejected: 0, tooMany: false };
  if (value.length > MAX_ENDPOINTS_HEADER) return { endpoints: [], rejected: 0, tooMany: true };
  const seen = new Map<string, Endpoint>();
  let rejected = 0;
  for (const item of splitList(value)) {
    const address = addressOf(item);
    if (address === undefined) {
      rejected++;
      continue;
    }
    if (seen.has(address)) continue;
    if (seen.size >= MAX_PARTIES) return { endpoints: [...seen.values()], rejected, tooMany: true };
    const after = item.slice(item.lastIndexOf('>') + 1);
    const epid = /;\s*epid=([A-Za-z0-9._~-]{1,64})\s*(?:;|$)/i.exec(after)?.[1];
    seen.set(address, epid ? { address, epid } : { address });
  }
  return { endpoints: [...seen.values()], rejected, tooMany: false };
}

/** The EndPoints header value for the parties given (self first, as Communicator writes it). */
export function formatEndPoints(parties: readonly Endpoint[]): string {
  return parties.map((p) => `<sip:${p.address}>${p.epid ? `;epid=${p.epid}` : ''}`).join(', ');
}

/** `Roster-Manager: sip:bob@host` (or `<sip:…>`): the address, or undefined when absent or not an address. */
export function rosterManagerOf(message: RawMessage): string | undefined {
  const value = headerValue(message, 'Roster-Manager');
  return value === undefined ? undefined : addressOf(value.trim());
}

export function requiresMultiparty(message: RawMessage): boolean {
  return headerValues(message, 'Require')
    .flatMap((v) => v.split(','))
    .some((v) => v.trim().toLowerCase() === MULTIPARTY_REQUIRE);
}

export function isTriggeredInvite(message: RawMessage): boolean {
  return (headerValue(message, 'TriggeredInvite') ?? '').trim().toUpperCase() === 'TRUE';
}

/**
 * Whether an INVITE opens (or joins) a group conversation rather than a
 * one-to-one IM: it names a roster manager, requires the multiparty
 * extension, is a triggered INVITE, or lists more than two parties.
 */
export function isMultipartyInvite(message: RawMessage): boolean {
  if (headerValue(message, 'Roster-Manager') !== undefined || requiresMultiparty(message) || isTriggeredInvite(message)) return true;
  const list = parseEndPoints(headerValue(message, 'EndPoints'));
  return list.tooMany || list.endpoints.length > 2;
}

/** A Call-ID that can name a conversation: printable, no spaces, bounded. */
export function usableCallId(callId: string | undefined): callId is string {
  return callId !== undefined && /^[\x21-\x7e]{1,200}$/.test(callId);
}
