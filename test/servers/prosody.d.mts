export interface ProsodyRosterItem {
  jid: string;
  name?: string;
  groups?: string[];
  subscription?: 'none' | 'to' | 'from' | 'both';
}

export interface ProsodyServer {
  readonly dir: string;
  readonly configPath: string;
  readonly domain: string;
  readonly mucDomain: string;
  readonly host: string;
  /** c2s port (STARTTLS). */
  readonly port: number;
  /** Direct TLS port (XEP-0368), when started with a certificate. */
  readonly directTlsPort: number | undefined;
  /** XEP-0363 upload service's JID (`upload.<domain>`), with `httpFileShare`. */
  readonly uploadDomain: string | undefined;
  /** Its HTTP (HTTPS with `tls`) port on 127.0.0.1. */
  readonly httpPort: number | undefined;
  readonly uploadBaseUrl: string | undefined;
  /** XEP-0065 proxy's JID (`proxy.<domain>`), with `proxy65`. */
  readonly proxyDomain: string | undefined;
  readonly proxy65Port: number | undefined;
  readonly running: boolean;
  register(user: string, password: string): Promise<void>;
  writeRoster(user: string, items: readonly ProsodyRosterItem[]): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  jid(user: string): string;
}

export interface StartProsodyOptions {
  dir?: string;
  domain?: string;
  tls?: { certPath: string; keyPath: string };
  users?: Record<string, string>;
  requireEncryption?: boolean;
  extraConfig?: string;
  /** "internal_plain" (default: SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN, a fresh salt each time) or "internal_hashed" (one salt per user). */
  authentication?: 'internal_plain' | 'internal_hashed';
  /** For "internal_hashed": the SCRAM hash the stored keys serve (default SHA-1). */
  passwordHash?: 'SHA-1' | 'SHA-256';
  /** More modules to enable (e.g. "pep", "bookmarks", "private", "vcard_legacy"). */
  modules?: string[];
  /** Enable mod_muc_mam on the MUC component (XEP-0313 for rooms), archiving every room. */
  mucMam?: boolean;
  /** Enable mod_mam (XEP-0313), archiving every one-to-one message. */
  mam?: boolean;
  /** Lowest level written to `prosody.log` in the server's directory (default "warn"; "debug" names each connection's peer address). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Serve XEP-0363 HTTP File Upload at `upload.<domain>` (mod_http_file_share; HTTPS when `tls` is given). */
  httpFileShare?: { sizeLimit?: number };
  /** Run a XEP-0065 SOCKS5 bytestream proxy at `proxy.<domain>` (mod_proxy65) on 127.0.0.1. */
  proxy65?: boolean;
}

export function freePort(): Promise<number>;
export function encodeStorageName(name: string): string;
export function startProsody(options?: StartProsodyOptions): Promise<ProsodyServer>;
