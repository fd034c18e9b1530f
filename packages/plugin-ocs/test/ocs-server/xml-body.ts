import { parseXml, type XmlElement } from '../../src/xml.js';
import type { RawMessage } from '../../src/sip/headers.js';

/** A request's body as XML, or undefined when it is not well-formed (the caller picks the answer). */
export function xmlBody(request: RawMessage): XmlElement | undefined {
  try {
    return parseXml(request.body);
  } catch {
    return undefined;
  }
}
