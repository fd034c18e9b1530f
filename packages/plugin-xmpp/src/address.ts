import { ownCopy } from './text.js';

/**
 * JIDs as they arrive from the network: anything may be in a `from`
 * attribute. These helpers never throw; an address they cannot read is
 * `undefined` and the stanza carrying it is skipped with a log line.
 * RFC 7622 §3: localpart and resourcepart at most 1023 bytes, domainpart
 * non-empty; the localpart excludes " & ' / : < > @.
 */
export interface Address {
  local: string;
  domain: string;
  resource: string;
  /** local@domain (or domain), lower-cased where the spec folds case. */
  bare: string;
  full: string;
}

const LOCAL_FORBIDDEN = /["&'/:<>@\s]/;
const DOMAIN = /^(\[[0-9a-fA-F:.]+\]|[^\s@/"&'<>]+)$/;

function validLocal(local: string): boolean {
  // A UTF-16 unit is at most 3 bytes of UTF-8: only long parts need counting (rosters run to thousands).
  return local.length > 0 && !LOCAL_FORBIDDEN.test(local) && (local.length <= 341 || Buffer.byteLength(local) <= 1023);
}

function validDomain(domain: string): boolean {
  return domain.length > 0 && domain.length <= 1023 && DOMAIN.test(domain);
}

export function parseAddress(value: string | undefined | null): Address | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 3071) return undefined;
  const slash = value.indexOf('/');
  const bareText = slash === -1 ? value : value.slice(0, slash);
  const resource = slash === -1 ? '' : value.slice(slash + 1);
  const at = bareText.indexOf('@');
  const local = at === -1 ? '' : bareText.slice(0, at);
  const domainText = at === -1 ? bareText : bareText.slice(at + 1);
  let domain = domainText.toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (at !== -1 && !validLocal(local)) return undefined;
  if (!validDomain(domain)) return undefined;
  if (slash !== -1 && resource.length === 0) return undefined;
  if (resource.length > 341 && Buffer.byteLength(resource) > 1023) return undefined;
  // Localparts are case-insensitive in practice (nodeprep / UsernameCaseMapped).
  const lowerLocal = local.toLowerCase();
  // An address already in its folded form is its own bare JID: the text as it came, rather than
  // one built of pieces (a roster of thousands keeps every one of them).
  const folded = lowerLocal === local && domain === domainText;
  const bare = local === '' ? domain : folded ? bareText : `${lowerLocal}@${domain}`;
  return { local: lowerLocal, domain, resource, bare, full: resource === '' ? bare : `${bare}/${resource}` };
}

/**
 * The folded bare JID of a roster item (RFC 6121 §2.1.2.1: a bare JID; one
 * with a resource is unusable), read as `parseAddress` reads it, in a string
 * of its own: the attribute's text is a view into the whole socket read it
 * came in, which a roster kept for the whole run would otherwise keep (see
 * ownCopy). Made without the address object, for thousands.
 */
export function parseBareJid(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 3071 || value.includes('/')) return undefined;
  const at = value.indexOf('@');
  let domain = (at === -1 ? value : value.slice(at + 1)).toLowerCase();
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (!validDomain(domain)) return undefined;
  if (at === -1) return ownCopy(domain);
  const local = value.slice(0, at);
  if (!validLocal(local)) return undefined;
  // Joined, not concatenated: one flat string rather than a chain of the pieces.
  return [local.toLowerCase(), domain].join('@');
}

/** The bare JID of a user-typed address, or undefined when it is not one. */
export function bareOf(value: string | undefined | null): string | undefined {
  return parseAddress(value)?.bare;
}
