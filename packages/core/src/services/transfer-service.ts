import { isAbsolute } from 'node:path';
import type { AccountManager } from '../accounts/account-manager.js';
import { ConfigError } from '../errors/ParleyError.js';
import type { TransferManager, TransferSettings } from '../transfers/transfer-manager.js';
import type { FileTransferCapability, TransferInfo } from '../transfers/types.js';

/**
 * `parley.transfers`: files sent and received. Progress and state changes
 * arrive as events (`transferAdded`, `transferChanged`, `transferProgress`);
 * an incoming offer is also put to the UI as a request (purpose
 * "file-transfer"), and whichever answers first — the prompt or `accept` /
 * `decline` here — wins.
 */
export class TransferService {
  /** @internal Made by the core; reach it as `parley.transfers`. */
  constructor(
    private readonly manager: TransferManager,
    private readonly accounts: AccountManager,
  ) {}

  /** Every transfer still going and the recent ended ones, oldest first. */
  readonly list = (): TransferInfo[] => {
    return this.manager.list();
  };

  /** One transfer by id, or undefined (unknown, or ended long enough ago to be dropped). */
  readonly get = (id: string): TransferInfo | undefined => {
    return this.manager.get(id);
  };

  /**
   * Offers the file at `path` to `peer` from `account` (an id or
   * "protocol:username"). Resolves once the offer is made; rejects with a
   * TransferError (`transfer-not-supported`, `transfer-offline`,
   * `transfer-file-unreadable`, `transfer-too-large`).
   */
  readonly send = (account: string, peer: string, path: string, options?: { description?: string; mimeType?: string }): Promise<TransferInfo> => {
    return this.manager.send(this.accounts.resolve(account).id, peer, path, options);
  };

  /** Accepts an offer, into the download folder or to `path`; an existing file is kept unless `overwrite`. */
  readonly accept = (id: string, options?: { path?: string; overwrite?: boolean }): Promise<TransferInfo> => {
    return this.manager.accept(id, options);
  };

  /** Declines an incoming offer; the peer is told where the protocol can. */
  readonly decline = (id: string): Promise<void> => {
    return this.manager.decline(id);
  };

  /** Stops a transfer in either direction (an offer is declined); the peer is told. */
  readonly cancel = (id: string): Promise<void> => {
    return this.manager.cancel(id);
  };

  /** Resolves with the transfer once it is done, failed or cancelled. */
  readonly settled = (id: string): Promise<TransferInfo> => {
    return this.manager.settled(id);
  };

  /** What the account's protocol can do with files; undefined when nothing. */
  readonly capability = (account: string): FileTransferCapability | undefined => {
    return this.manager.capability(this.accounts.resolve(account).id);
  };

  /** The settings in force. */
  readonly settings = (): Readonly<TransferSettings> => {
    return { ...this.manager.settings };
  };

  // Arrow functions: the remote server and inProcessClient call these unbound.

  /** Changes settings for this run (the config file's `transfers` keeps them across runs). */
  readonly configure = (changes: Partial<TransferSettings>): void => {
    const settings = this.manager.settings;
    if (changes.downloadDir !== undefined) {
      if (typeof changes.downloadDir !== 'string' || !isAbsolute(changes.downloadDir)) throw new ConfigError('invalid-config', 'The download folder must be an absolute path', 'downloadDir');
      settings.downloadDir = changes.downloadDir;
    }
    if (changes.maxIncomingSize !== undefined) {
      if (!Number.isSafeInteger(changes.maxIncomingSize) || changes.maxIncomingSize < 0) throw new ConfigError('invalid-config', 'The size limit must be a number of bytes', 'maxIncomingSize');
      settings.maxIncomingSize = changes.maxIncomingSize;
    }
    if (changes.autoAcceptFromBuddies !== undefined) settings.autoAcceptFromBuddies = changes.autoAcceptFromBuddies === true;
  };
}
