/**
 * File transfer: the plain-data shapes that pass between the core and a
 * protocol plugin (and across a plugin's worker boundary), and the public
 * view of a transfer a UI sees. File contents never pass through here: the
 * plugin reads the file to send from its path, and writes a received file to
 * the temporary path the core gives it, streaming in both cases.
 */
import type { ParleyErrorJSON } from '../errors/ParleyError.js';

/** What a protocol can do with files; a protocol without it has no file transfer. */
export interface FileTransferCapability {
  /** It can send a file to a one-to-one peer (`ProtocolConnection.sendFile`). */
  send: boolean;
  /** It reports incoming offers (`ConnectionContext.transfers.offered`) and takes `acceptFile`/`declineFile`. */
  receive: boolean;
  /** It can continue an interrupted incoming transfer from a byte offset (`FileTarget.offset` may be above 0). */
  resume?: boolean;
  /** The ways it moves files, in its own words, for display ("http-upload", "jingle-socks5", "ibb", "dcc"). */
  methods?: readonly string[];
  /** The largest file it can send, in bytes, when the protocol has a fixed limit. */
  maxSendSize?: number;
}

/** A checksum a protocol carries with a file. The core verifies the algorithms Node knows and ignores the others. */
export interface FileChecksum {
  /** IANA hash name as protocols write it: "sha-256", "sha-1", "sha-512", "md5". */
  algorithm: string;
  /** The digest in lower-case hexadecimal (a plugin converts a protocol's base64). */
  hex: string;
}

/**
 * A file the user sends, as the core hands it to `ProtocolConnection.sendFile`.
 * The core has checked it is a readable regular file of `size` bytes.
 */
export interface OutgoingFile {
  /** The transfer's id, chosen by the core; the plugin reports progress under it. */
  id: string;
  /** The one-to-one peer, in the protocol's address form. */
  peer: string;
  /** Absolute path of the file: the plugin opens and streams it itself (`fs.createReadStream(path, { start })`). */
  path: string;
  /** The name to offer the peer (the file's base name). */
  name: string;
  /** The file's size in bytes, as the core found it. */
  size: number;
  /** The media type, when the user or the file's name gave one. */
  mimeType?: string;
  /** The user's words to go with the file. */
  description?: string;
}

/**
 * An offer from a peer, as a plugin reports it with `ConnectionContext.transfers.offered`.
 * Everything in it is the peer's word: the core checks the name and size before it asks the user.
 */
export interface IncomingFileOffer {
  /** The plugin's id for this transfer, unique within the connection (a Jingle sid, a DCC token). */
  id: string;
  /** Who offers it, in the protocol's address form. */
  peer: string;
  /** The name the peer proposes. Never used as a path: the core makes a safe file name from it. */
  name: string;
  /** The size the peer announces, in bytes; absent when the protocol does not say (an OOB link). */
  size?: number;
  /** The media type the peer announces (unchecked). */
  mimeType?: string;
  /** The peer's words to go with the file. */
  description?: string;
  /** A checksum the offer carries (Jingle's `<hash/>`); one may also come with `completed`. */
  checksum?: FileChecksum;
  /** The plugin can continue from an offset (`FileTarget.offset`) for this offer. */
  resumable?: boolean;
  /** Where the bytes would come from, for the user's decision ("DCC from 192.0.2.7:5000", "https://upload.example/…"). */
  origin?: string;
}

/**
 * Where an accepted incoming file goes, as the core hands it to `acceptFile`.
 * The core created `path` (a temporary name in the download folder, mode
 * 0600); the plugin writes the bytes there and nowhere else, and the core
 * renames it to its final name once it has checked the result.
 */
export interface FileTarget {
  /** Absolute path of the temporary file to write. */
  path: string;
  /** Bytes already there (a resumed transfer): write from this offset. 0 for a new transfer. */
  offset: number;
  /**
   * The most bytes the file may hold: the announced size, or the size limit when none was announced.
   * Writing more is the peer's fault: stop and report `failed` with `transfer-oversize`
   * (`openTransferSink` does this).
   */
  maxBytes: number;
}

/** What a plugin may add when it reports a transfer complete. */
export interface TransferCompletion {
  /** A checksum the protocol gave at the end (Jingle's session-info hash). */
  checksum?: FileChecksum;
  /** Where the file now lives for the peer (an HTTP upload's link). */
  url?: string;
}

/**
 * The context side: how a plugin reports transfers to the core. Calls about
 * an id the core does not know (or no longer tracks) are ignored.
 */
export interface TransferReporter {
  /** A peer offers a file. The core asks the user (or applies the settings) and answers with `acceptFile` or `declineFile`. */
  offered(offer: IncomingFileOffer): void;
  /** The peer accepted an outgoing file: bytes are about to flow. */
  accepted(id: string): void;
  /**
   * Bytes moved so far in all, the resumed offset included. Call as often as you like: the core
   * coalesces it (the worker side sends at most about ten a second).
   */
  progress(id: string, bytes: number): void;
  /**
   * Every byte went through. For an incoming file the core then checks the size and the checksum,
   * and renames the temporary file; the transfer is done only after that.
   */
  completed(id: string, result?: TransferCompletion): void;
  /** The transfer broke (network, the peer vanished, too many bytes): a TransferError says which. */
  failed(id: string, error: Error): void;
  /** The peer declined or cancelled it. */
  cancelled(id: string, reason?: string): void;
}

/** Where a transfer is. */
export type TransferState =
  /** An incoming offer waiting for the user's answer. */
  | 'offered'
  /** Accepted on our side, waiting for the peer (to accept, or to open the data connection). */
  | 'waiting'
  | 'transferring'
  | 'done'
  | 'failed'
  | 'cancelled';

/** A transfer as a UI sees it: plain data, the same over the remote protocol. */
export interface TransferInfo {
  /** The core's id of the transfer. */
  id: string;
  /** The account it goes through. */
  accountId: string;
  /** The other side, in the protocol's address form. */
  peer: string;
  /** Received (an offer to us) or sent. */
  direction: 'incoming' | 'outgoing';
  /** For an outgoing file its base name; for an incoming one the safe name it will get (or the peer's name, cleaned). */
  name: string;
  /** Bytes in all, when known. */
  size?: number;
  /** Where it stands; `transferChanged` sends each change. */
  state: TransferState;
  /** Bytes moved so far. */
  bytes: number;
  /** Bytes per second over the last few seconds, while transferring. */
  rate?: number;
  /** Seconds left at the current rate, while transferring with a known size. */
  eta?: number;
  /** The local file: the source of an outgoing file; the final path of a received one once done. */
  path?: string;
  /** The media type, as announced or given. */
  mimeType?: string;
  /** The words that came with the file. */
  description?: string;
  /** Where the bytes come from, for the user's decision (an incoming offer's address or link). */
  origin?: string;
  /** Why it failed, as an error's plain data (`code` is a TransferError code). */
  error?: ParleyErrorJSON;
  /** Why it was cancelled, and by whom. */
  cancelledBy?: 'user' | 'peer';
  /** The reason given with a cancel, when there was one. */
  reason?: string;
  /** A link the protocol gave when done (HTTP upload). */
  url?: string;
  /** When it was created and when it ended, in ms since the epoch. */
  startedAt: number;
  /** Set once it is done, failed or cancelled. */
  endedAt?: number;
}

/** A progress report: a UI's progress bar. */
export interface TransferProgress {
  /** Bytes moved so far. */
  bytes: number;
  /** Bytes in all, when known. */
  size?: number;
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Seconds left, when the size is known and bytes are moving. */
  eta?: number;
}
