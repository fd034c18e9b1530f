/**
 * Values the user gives that end up in SIP messages: a peer's address goes
 * into the Request-URI, To and EndPoints headers, a display name or group
 * name into the contact list's XML. They are checked here, where they enter
 * the plugin, and refused when they do not fit: never cut to something that
 * looks valid, since that would send to (or store) what the user did not type.
 */
import { ParleyError } from '@parley/core';
import { Grammar } from 'sip.js';
import type { OcsErrorCode } from './errors.js';

/** The codes an `OcsInputError` carries: a malformed address, or text that would break the SIP message. */
export type OcsInputErrorCode = Extract<OcsErrorCode, 'ocs-invalid-address' | 'ocs-invalid-input'>;

/** A user-given value the plugin refuses to put on the wire. */
export class OcsInputError extends ParleyError {
  declare readonly code: OcsInputErrorCode;
  constructor(code: OcsInputErrorCode, message: string) {
    super(code, message);
  }
}

/** For error messages and logs: the value quoted, control characters made visible. */
export function printable(value: string): string {
  const shown = value.length > 120 ? `${value.slice(0, 120)}…` : value;
  return JSON.stringify(shown).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

/**
 * user@host, as in the sign-in address: no characters that would end the
 * URI inside a header (`>` `,` `;` `?` quotes, white space, line breaks,
 * NUL and other control characters), a host name made of labels.
 */
const ADDRESS = /^[^@\s\x00-\x1f\x7f:;<>",?\\/[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * A peer's address as `user@host` in lower case (OCS compares addresses
 * without case), from `user@host` or `sip:user@host`. Anything else is
 * refused with `ocs-invalid-address`.
 */
export function peerAddress(value: string): string {
  const bare = value.replace(/^sips?:/i, '');
  const uri = ADDRESS.test(bare) ? Grammar.URIParse(`sip:${bare}`) : undefined;
  if (!uri || !uri.user || !uri.host) throw new OcsInputError('ocs-invalid-address', `${printable(value)} is not a SIP address like user@company.com`);
  return bare.toLowerCase();
}

export function isPeerAddress(value: string): boolean {
  try {
    peerAddress(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A display name or group name: one line of text. XML cannot carry control
 * characters at all, and a line break in a name is never what the user meant.
 */
export function nameText(value: string, what: string): string {
  if (/[\x00-\x1f\x7f\uFFFE\uFFFF]/.test(value)) throw new OcsInputError('ocs-invalid-input', `The ${what} ${printable(value)} must be one line of text without control characters`);
  if (value.length > 256) throw new OcsInputError('ocs-invalid-input', `The ${what} is longer than 256 characters`);
  return value;
}
