import { IrcError } from './errors.js';

/**
 * Characters that end or corrupt an IRC line. ngircd, like many servers,
 * treats a lone CR as a line end, and NUL is forbidden anywhere in a message
 * (RFC 2812 section 2.3.1), so all three must never reach the socket inside
 * a parameter.
 */
const BREAKING = /[\r\n\0]/;
const BREAKS = /[\r\n\0]+/;

/** Splits user text into the lines it contains; each becomes its own message. Empty lines are dropped. */
export function textLines(text: string): string[] {
  return text.split(BREAKS).filter((line) => line.length > 0);
}

export function hasLineBreak(value: string): boolean {
  return BREAKING.test(value);
}

/** Text that must stay one parameter (topic, part or quit reason, away message): refused when it holds a line break. */
export function singleLine(value: string, what: string): string {
  if (BREAKING.test(value)) throw new IrcError('irc-invalid-input', `The ${what} must not contain line breaks or NUL characters`);
  return value;
}

/**
 * A middle parameter (nick, channel, key, target): no line breaks, no spaces,
 * and no leading ':' which would turn it into the trailing parameter.
 */
export function word(value: string, what: string): string {
  if (value.length === 0) throw new IrcError('irc-invalid-input', `The ${what} is empty`);
  if (BREAKING.test(value) || /[\s,]/.test(value) || value.startsWith(':')) {
    throw new IrcError('irc-invalid-input', `The ${what} "${printable(value)}" contains characters IRC does not allow`);
  }
  return value;
}

/** A raw line for /quote: exactly one line, sent as the user typed it. */
export function rawLine(value: string): string {
  const line = value.trim();
  if (line.length === 0) throw new IrcError('irc-invalid-input', 'The raw line is empty');
  return singleLine(line, 'raw line');
}

/** For error messages and logs: control characters made visible. */
export function printable(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
