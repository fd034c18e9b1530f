/**
 * DCC requests as they travel inside CTCP (the CTCP draft's DCC section and
 * the de facto extensions every client speaks):
 *
 *   DCC SEND <name> <address> <port> <size> [<token>]
 *   DCC RESUME <name> <port> <position> [<token>]
 *   DCC ACCEPT <name> <port> <position> [<token>]
 *
 * The name is quoted when it holds spaces. The address is an IPv4 address
 * as one unsigned 32-bit decimal number, or an IPv6 address written as
 * text. Port 0 with a token is a passive (reverse) offer: the receiver
 * listens and answers with a SEND carrying its own address, port and the
 * same token. Everything here is the peer's word: parsed strictly, never
 * trusted as a path or an address to connect to (see address-check.ts).
 */
import { IrcError } from '../errors.js';
import { canonicalAddress, isIPv4, isIPv6 } from './ip.js';

export interface DccSend {
  type: 'SEND';
  /** The name as the peer wrote it (quotes removed). Never a path: the core makes a safe file name of it. */
  name: string;
  /** Dotted IPv4 or IPv6 text. */
  address: string;
  /** 0 in a passive offer. */
  port: number;
  size: number;
  token?: string;
}

export interface DccResume {
  type: 'RESUME' | 'ACCEPT';
  name: string;
  port: number;
  position: number;
  token?: string;
}

export type DccRequest = DccSend | DccResume;

/** Longest name we read or write: longer ones are refused rather than cut (a cut name could change its extension). */
export const MAX_NAME_LENGTH = 255;
/** A DCC token: clients use short numbers; anything odd is refused. */
const TOKEN = /^[A-Za-z0-9_-]{1,32}$/;
const DIGITS = /^\d{1,20}$/;

function malformed(message: string): IrcError {
  return new IrcError('irc-dcc-malformed', message);
}

/**
 * Splits the arguments after the DCC type: a first argument in double
 * quotes may hold spaces; the rest are single words. A quote inside a
 * quoted name has no escape in DCC, so the closing quote is the last
 * quote followed by a space or the end.
 */
function splitArguments(text: string): { name: string; rest: string[] } {
  if (text.startsWith('"')) {
    // The numbers after the name never hold a quote: the last quote closes the name.
    const close = text.lastIndexOf('"');
    if (close === 0) throw malformed('The file name opens a quote it never closes');
    if (close + 1 < text.length && text[close + 1] !== ' ') throw malformed('The quoted file name runs into the next argument');
    const rest = text.slice(close + 1).split(' ').filter((part) => part !== '');
    return { name: text.slice(1, close), rest };
  }
  const parts = text.split(' ').filter((part) => part !== '');
  const name = parts.shift();
  if (name === undefined) throw malformed('The DCC request has no file name');
  return { name, rest: parts };
}

/** A decimal number within JavaScript's exact integers, or an error naming `what`. */
function integer(text: string | undefined, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (text === undefined) throw malformed(`The DCC request has no ${what}`);
  if (!DIGITS.test(text)) throw malformed(`The ${what} "${text.slice(0, 32)}" is not a number`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > max) throw malformed(`The ${what} ${text} is out of range`);
  return value;
}

function port(text: string | undefined): number {
  return integer(text, 'port', 65_535);
}

/** The IPv4 address of its 32-bit number (network order), IPv6 as written; dotted IPv4 accepted too, as some clients send it. */
export function decodeAddress(text: string): string {
  if (DIGITS.test(text)) {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value > 0xffff_ffff) throw malformed(`The address ${text} is not an IPv4 number`);
    return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
  }
  const address = canonicalAddress(text);
  if (address === undefined) throw malformed(`The address "${text.slice(0, 64)}" is neither an IPv4 number nor an IP address`);
  return address;
}

/** The DCC form of an address: IPv4 as its 32-bit number, IPv6 as text. */
export function encodeAddress(address: string): string {
  const v4 = canonicalAddress(address) ?? address;
  if (isIPv4(v4)) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    return String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d);
  }
  if (isIPv6(v4)) return v4;
  throw new IrcError('irc-invalid-input', `"${address}" is not an IP address to offer`);
}

function checkName(name: string): string {
  if (name === '') throw malformed('The file name is empty');
  if (name.length > MAX_NAME_LENGTH) throw malformed(`The file name is longer than ${MAX_NAME_LENGTH} characters`);
  // NUL and the CTCP delimiter cannot be in a name (the line would already be cut); other control bytes are refused too.
  if (/[\x00-\x1f\x7f]/.test(name)) throw malformed('The file name contains control characters');
  return name;
}

function token(text: string | undefined): { token?: string } {
  if (text === undefined) return {};
  if (!TOKEN.test(text)) throw malformed(`The DCC token "${text.slice(0, 32)}" is not a token`);
  return { token: text };
}

/**
 * Reads a CTCP DCC body ("DCC SEND ..." without the \x01 delimiters).
 * Returns undefined for DCC types this plugin does not handle (CHAT, the
 * XDCC families); throws an `irc-dcc-malformed` IrcError for a SEND, RESUME
 * or ACCEPT it cannot read.
 */
export function parseDcc(body: string): DccRequest | undefined {
  const match = /^DCC +([A-Za-z]+) +(.*)$/s.exec(body);
  if (match === null) {
    if (/^DCC\b/i.test(body)) throw malformed('The DCC request has no arguments');
    return undefined;
  }
  const type = match[1]!.toUpperCase();
  if (type !== 'SEND' && type !== 'RESUME' && type !== 'ACCEPT') return undefined;
  const args = match[2]!.trim();
  const { name, rest } = splitArguments(args);
  checkName(name);
  if (type === 'SEND') {
    if (rest.length < 3 || rest.length > 4) throw malformed(`DCC SEND needs an address, a port and a size after the name (got ${rest.length} arguments)`);
    const address = decodeAddress(rest[0]!);
    const p = port(rest[1]);
    const size = integer(rest[2], 'size');
    const t = token(rest[3]);
    if (p === 0 && t.token === undefined) throw malformed('A DCC SEND with port 0 (passive) needs a token');
    return { type, name, address, port: p, size, ...t };
  }
  if (rest.length < 2 || rest.length > 3) throw malformed(`DCC ${type} needs a port and a position after the name`);
  return { type, name, port: port(rest[0]), position: integer(rest[1], 'position'), ...token(rest[2]) };
}

/**
 * A name safe to put in a DCC request: control characters (CR, LF and NUL
 * would end the IRC line, \x01 the CTCP message) and double quotes (DCC has
 * no escape for them) become "_"; quoted when it holds a space.
 */
export function quoteName(name: string): string {
  const clean = name.replace(/[\x00-\x1f\x7f"]/g, '_');
  if (clean === '') throw new IrcError('irc-invalid-input', 'The file name is empty');
  if (clean.length > MAX_NAME_LENGTH) throw new IrcError('irc-invalid-input', `The file name is longer than ${MAX_NAME_LENGTH} characters`);
  return /\s/.test(clean) || clean.startsWith(':') ? `"${clean}"` : clean;
}

/** The CTCP body of a request, without the \x01 delimiters. */
export function buildDcc(request: DccRequest): string {
  const tail = request.token === undefined ? '' : ` ${request.token.replace(/[^A-Za-z0-9_-]/g, '')}`;
  if (request.type === 'SEND') {
    return `DCC SEND ${quoteName(request.name)} ${encodeAddress(request.address)} ${request.port} ${request.size}${tail}`;
  }
  return `DCC ${request.type} ${quoteName(request.name)} ${request.port} ${request.position}${tail}`;
}
