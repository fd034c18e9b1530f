/**
 * XML 1.0 §2.2 Char: anything else (NUL, most control characters, lone
 * surrogates, U+FFFE/FFFF) makes the server close the stream with
 * <not-well-formed/>, so it is removed from what we send. Markup characters
 * are escaped by the XML builder; nothing a user types can add elements.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlSafe(text: string): string {
  return text.replace(NOT_XML_CHAR, '');
}

/** Prosody's default c2s stanza limit is 256 KiB; stay well under it. */
export const MAX_BODY_BYTES = 128 * 1024;

/**
 * The text of `value` in a string of its own. A parsed attribute or text is a
 * slice of the text the parser was given, and V8 keeps a slice of 13
 * characters or more as a view of that whole text: a name kept for the whole
 * run (a contact's JID) would keep the 64 KiB socket read it came in, and a
 * roster of thousands all of them. Joined from two pieces, it is copied.
 */
export function ownCopy(value: string): string {
  return value.length < 13 ? value : [value.slice(0, 1), value.slice(1)].join('');
}
