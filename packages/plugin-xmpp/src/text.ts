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
