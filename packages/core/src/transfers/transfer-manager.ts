import { createHash, getHashes, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AccountManager } from '../accounts/account-manager.js';
import type { BuddyList } from '../buddies/buddy-list.js';
import type { ConversationManager } from '../conversations/conversation-manager.js';
import { isParleyError, type ParleyError } from '../errors/ParleyError.js';
import type { ParleyEvents } from '../events/events.js';
import type { ProtocolConnection } from '../plugins/contract.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { UiOps } from '../ui/ui-ops.js';
import type { Logger } from '../util/logger.js';
import { newId } from '../util/ids.js';
import { TransferError } from './errors.js';
import { formatBytes, formatRate } from './format.js';
import { numberedName, safeFileName } from './safe-name.js';
import type { FileChecksum, FileTransferCapability, IncomingFileOffer, TransferCompletion, TransferInfo, TransferProgress, TransferReporter, TransferState } from './types.js';

/** Transfer settings: where files go, how big they may be, whom to trust. */
export interface TransferSettings {
  /** Folder incoming files are saved in. Default: the XDG download folder. */
  downloadDir: string;
  /** Largest incoming file accepted, in bytes; larger offers are declined. Default 4 GiB. */
  maxIncomingSize: number;
  /** Accept files from peers on the buddy list without asking. Default false. */
  autoAcceptFromBuddies: boolean;
}

/** Largest incoming file accepted when neither the options nor the config file set one: 4 GiB. */
export const DEFAULT_MAX_INCOMING_SIZE = 4 * 1024 ** 3;

/** How often, at most, `transferProgress` is emitted for one transfer. */
const PROGRESS_EVENT_MS = 250;
/** The window the rate is measured over. */
const RATE_WINDOW_MS = 5_000;
/** How long a plugin gets to stop a cancelled transfer before the core cleans up anyway. */
const CANCEL_TIMEOUT_MS = 5_000;
/** Ended transfers kept in the list for UIs. */
const KEEP_ENDED = 200;

const TERMINAL: ReadonlySet<TransferState> = new Set(['done', 'failed', 'cancelled']);

/** Node's name for a protocol's hash name, when it has one. */
function nodeHash(algorithm: string): string | undefined {
  const name = algorithm.toLowerCase().replace(/^sha-/, 'sha');
  return getHashes().includes(name) ? name : undefined;
}

interface Transfer {
  info: TransferInfo;
  /** The id the plugin knows it by. */
  pluginId: string;
  /** Incoming: the offer as the plugin reported it (names and checksum are the peer's word). */
  offer?: IncomingFileOffer;
  /** Incoming, accepted: the temporary file and where it goes. */
  temp?: string;
  destination?: { dir: string; name: string; overwrite: boolean };
  maxBytes?: number;
  /** The user's answer to the offer prompt is no longer wanted. */
  prompt?: AbortController;
  samples: Array<{ at: number; bytes: number }>;
  lastEmit: number;
  settled: Array<(info: TransferInfo) => void>;
  /** Completion is being checked: later reports are ignored. */
  finishing?: boolean;
}

export interface TransferManagerDeps {
  accounts: AccountManager;
  registry: PluginRegistry;
  buddies: BuddyList;
  conversations: ConversationManager;
  events: ParleyEvents;
  ui: UiOps;
  log: Logger;
  settings: TransferSettings;
}

/**
 * Every file transfer of the core, both directions: checks what is sent and
 * what is offered, asks the user, chooses safe names in the download folder,
 * has the plugin stream into a temporary file and renames it once its size
 * and checksum are right, and keeps UIs informed through events.
 */
export class TransferManager {
  private readonly transfers = new Map<string, Transfer>();
  /** `${accountId}\0${pluginId}` → core id. */
  private readonly byPluginId = new Map<string, string>();
  /** Parts of broken resumable transfers, by sender, name and size (see releaseTemp). */
  private readonly partials = new Map<string, { path: string; dir: string }>();

  constructor(private readonly deps: TransferManagerDeps) {}

  get settings(): TransferSettings {
    return this.deps.settings;
  }

  list(): TransferInfo[] {
    return [...this.transfers.values()].map((t) => this.view(t));
  }

  get(id: string): TransferInfo | undefined {
    const transfer = this.transfers.get(id);
    return transfer === undefined ? undefined : this.view(transfer);
  }

  /** What the account's protocol can do with files, if anything. */
  capability(accountRef: string): FileTransferCapability | undefined {
    const account = this.deps.accounts.get(accountRef);
    return this.deps.registry.protocol(account.protocol)?.capabilities.fileTransfer;
  }

  /** Resolves with the transfer once it has ended (done, failed or cancelled). */
  settled(id: string): Promise<TransferInfo> {
    const transfer = this.require(id);
    if (TERMINAL.has(transfer.info.state)) return Promise.resolve(this.view(transfer));
    return new Promise((resolve) => transfer.settled.push(resolve));
  }

  // ---- outgoing ---------------------------------------------------------

  /** Offers the file at `path` to `peer`; resolves once the offer is made (state `waiting`). */
  async send(accountRef: string, peer: string, path: string, options: { description?: string; mimeType?: string } = {}): Promise<TransferInfo> {
    const account = this.deps.accounts.get(accountRef);
    if (typeof peer !== 'string' || peer.trim() === '') throw new TransferError('transfer-bad-offer', 'No peer to send the file to');
    const capability = this.deps.registry.protocol(account.protocol)?.capabilities.fileTransfer;
    const connection = this.deps.accounts.connection(account.id);
    if (capability?.send !== true) throw new TransferError('transfer-not-supported', `${account.protocol} accounts cannot send files`);
    if (connection === undefined) throw new TransferError('transfer-offline', `${account.protocol}:${account.username} is not online`);
    if (connection.sendFile === undefined) throw new TransferError('transfer-not-supported', `${account.protocol} accounts cannot send files`);
    const full = resolve(path);
    let size: number;
    try {
      const info = await stat(full);
      if (!info.isFile()) throw new Error('not a regular file');
      await access(full, constants.R_OK);
      size = info.size;
    } catch (error) {
      throw new TransferError('transfer-file-unreadable', `Cannot send ${full}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (capability.maxSendSize !== undefined && size > capability.maxSendSize) {
      throw new TransferError('transfer-too-large', `${basename(full)} is ${formatBytes(size)}; ${account.protocol} can send at most ${formatBytes(capability.maxSendSize)}`);
    }
    const id = newId();
    const info: TransferInfo = { id, accountId: account.id, peer, direction: 'outgoing', name: basename(full), size, state: 'waiting', bytes: 0, path: full, startedAt: Date.now() };
    if (options.description !== undefined) info.description = options.description;
    if (options.mimeType !== undefined) info.mimeType = options.mimeType;
    const transfer = this.add(info, id);
    this.record(transfer, `Offering ${info.name} (${formatBytes(size)}) to ${peer}`);
    try {
      await connection.sendFile({ id, peer, path: full, name: info.name, size, ...(options.mimeType === undefined ? {} : { mimeType: options.mimeType }), ...(options.description === undefined ? {} : { description: options.description }) });
    } catch (error) {
      this.fail(transfer, asTransferError(error));
    }
    return this.view(transfer);
  }

  // ---- incoming ---------------------------------------------------------

  /**
   * Accepts an offer. Without a path the file goes to the download folder
   * under its safe name; with one, to that path. An existing file is never
   * replaced unless `overwrite` is set: "name (1).ext" is chosen instead.
   */
  async accept(id: string, options: { path?: string; overwrite?: boolean } = {}): Promise<TransferInfo> {
    const transfer = this.require(id);
    if (transfer.info.direction !== 'incoming' || transfer.info.state !== 'offered') throw new TransferError('transfer-invalid-state', `Transfer ${id} is ${transfer.info.state}, not an offer waiting for an answer`);
    const connection = this.connectionOf(transfer);
    if (connection?.acceptFile === undefined) throw new TransferError('transfer-offline', 'The account that received the offer is not online');
    transfer.prompt?.abort();
    let dir = this.deps.settings.downloadDir;
    let name = transfer.info.name;
    if (options.path !== undefined && options.path !== '') {
      const chosen = resolve(options.path);
      dir = dirname(chosen);
      // The user's own choice of name is still one component: a name with a slash cannot come from basename.
      name = basename(chosen);
    }
    transfer.destination = { dir, name, overwrite: options.overwrite === true };
    this.setState(transfer, 'waiting');
    let temp: string;
    let offset = 0;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const part = await this.takePartial(transfer, dir);
      if (part !== undefined) {
        ({ path: temp, bytes: offset } = part);
      } else {
        temp = join(dir, `.${name.slice(0, 64)}.${randomBytes(6).toString('hex')}.parley-part`);
        // Exclusive: never follows a link someone placed, never takes over a file.
        await (await open(temp, 'wx', 0o600)).close();
      }
    } catch (error) {
      const failure = new TransferError('transfer-write-failed', `Cannot create the file in ${dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      void this.tellPlugin(transfer, 'declineFile');
      this.fail(transfer, failure);
      throw failure;
    }
    transfer.temp = temp;
    const maxBytes = transfer.info.size ?? this.deps.settings.maxIncomingSize;
    transfer.maxBytes = maxBytes;
    try {
      if (offset > 0) {
        transfer.info.bytes = offset;
        this.record(transfer, `Continuing ${transfer.info.name} from ${formatBytes(offset)}`);
      }
      await connection.acceptFile(transfer.pluginId, { path: temp, offset, maxBytes });
    } catch (error) {
      // The plugin never took the file: nothing will write or remove the temporary file but us.
      transfer.finishing = true;
      await this.removeTemp(transfer);
      this.fail(transfer, asTransferError(error));
    }
    return this.view(transfer);
  }

  /** The part a broken transfer of the same file left in `dir`, taken for this one; undefined when there is none. */
  private async takePartial(transfer: Transfer, dir: string): Promise<{ path: string; bytes: number } | undefined> {
    const key = this.partialKey(transfer);
    const part = key === undefined ? undefined : this.partials.get(key);
    if (key === undefined || part === undefined || part.dir !== dir) return undefined;
    this.partials.delete(key);
    try {
      const info = await stat(part.path);
      if (info.isFile() && info.size > 0 && info.size < (transfer.info.size ?? 0)) return { path: part.path, bytes: info.size };
    } catch {
      return undefined;
    }
    await unlink(part.path).catch(() => undefined);
    return undefined;
  }

  /** Declines an offer; the peer is told where the protocol can. */
  async decline(id: string): Promise<void> {
    const transfer = this.require(id);
    if (transfer.info.state !== 'offered') throw new TransferError('transfer-invalid-state', `Transfer ${id} is ${transfer.info.state}, not an offer waiting for an answer`);
    transfer.prompt?.abort();
    await this.tellPlugin(transfer, 'declineFile');
    this.end(transfer, 'cancelled', { cancelledBy: 'user', reason: 'declined' });
  }

  /** Cancels a transfer in any state that has not ended; an offer is declined. */
  async cancel(id: string): Promise<void> {
    const transfer = this.require(id);
    if (TERMINAL.has(transfer.info.state)) throw new TransferError('transfer-invalid-state', `Transfer ${id} has already ended (${transfer.info.state})`);
    if (transfer.info.state === 'offered') return this.decline(id);
    transfer.finishing = true;
    await this.tellPlugin(transfer, 'cancelFile');
    await this.removeTemp(transfer);
    this.end(transfer, 'cancelled', { cancelledBy: 'user' });
  }

  /**
   * The reporter handed to one connection attempt of an account. Reports
   * after the attempt is over (`live` false) are ignored.
   */
  reporterFor(accountId: string, live: () => boolean, fault: (where: string, error: unknown) => void): TransferReporter {
    const find = (pluginId: unknown): Transfer | undefined => {
      if (!live() || typeof pluginId !== 'string') return undefined;
      const id = this.byPluginId.get(`${accountId}\0${pluginId}`);
      const transfer = id === undefined ? undefined : this.transfers.get(id);
      return transfer === undefined || TERMINAL.has(transfer.info.state) || transfer.finishing === true ? undefined : transfer;
    };
    const guard = <A extends unknown[]>(where: string, fn: (...args: A) => void) => (...args: A): void => {
      try {
        fn(...args);
      } catch (error) {
        fault(`transfers.${where}`, error);
      }
    };
    return {
      offered: guard('offered', (offer: IncomingFileOffer) => {
        if (!live()) return;
        this.offered(accountId, offer);
      }),
      accepted: guard('accepted', (pluginId: string) => {
        const transfer = find(pluginId);
        if (transfer !== undefined && transfer.info.state === 'waiting') this.setState(transfer, 'transferring');
      }),
      progress: guard('progress', (pluginId: string, bytes: number) => {
        const transfer = find(pluginId);
        if (transfer === undefined || typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return;
        this.progress(transfer, bytes);
      }),
      completed: guard('completed', (pluginId: string, result?: TransferCompletion) => {
        const transfer = find(pluginId);
        if (transfer !== undefined) void this.completed(transfer, result);
      }),
      failed: guard('failed', (pluginId: string, error: Error) => {
        const transfer = find(pluginId);
        if (transfer === undefined) return;
        transfer.finishing = true;
        const failure = asTransferError(error);
        void this.releaseTemp(transfer, failure).then(() => this.fail(transfer, failure));
      }),
      cancelled: guard('cancelled', (pluginId: string, reason?: string) => {
        const transfer = find(pluginId);
        if (transfer === undefined) return;
        transfer.finishing = true;
        transfer.prompt?.abort();
        const why = typeof reason === 'string' && reason !== '' ? reason.slice(0, 200) : undefined;
        void this.removeTemp(transfer).then(() => this.end(transfer, 'cancelled', why === undefined ? { cancelledBy: 'peer' } : { cancelledBy: 'peer', reason: why }));
      }),
    };
  }

  /** The account went offline: its transfers cannot go on. */
  accountOffline(accountId: string): void {
    for (const transfer of this.transfers.values()) {
      if (transfer.info.accountId !== accountId || TERMINAL.has(transfer.info.state) || transfer.finishing === true) continue;
      transfer.finishing = true;
      transfer.prompt?.abort();
      const failure = new TransferError('transfer-interrupted', 'The account went offline during the transfer');
      void this.releaseTemp(transfer, failure).then(() => this.fail(transfer, failure));
    }
  }

  /** Parley stops: every transfer still going is cancelled and its temporary file removed. */
  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.transfers.values()]
        .filter((t) => !TERMINAL.has(t.info.state) && t.finishing !== true)
        .map(async (transfer) => {
          transfer.finishing = true;
          transfer.prompt?.abort();
          if (transfer.info.state !== 'offered') await this.tellPlugin(transfer, 'cancelFile');
          await this.removeTemp(transfer);
          this.fail(transfer, new TransferError('transfer-interrupted', 'Parley stopped during the transfer'));
        }),
    );
    // Parts kept for a resume do not outlive the run that knew whose they were.
    const partials = [...this.partials.values()];
    this.partials.clear();
    await Promise.all(partials.map((p) => unlink(p.path).catch(() => undefined)));
  }

  // ---- internals --------------------------------------------------------

  private offered(accountId: string, offer: IncomingFileOffer): void {
    if (typeof offer !== 'object' || offer === null || typeof offer.id !== 'string' || offer.id === '' || offer.id.length > 1024) throw new Error('an offer without an id');
    if (typeof offer.peer !== 'string' || offer.peer === '' || offer.peer.length > 3072) throw new Error('an offer without a peer');
    if (this.byPluginId.has(`${accountId}\0${offer.id}`)) {
      const existing = this.transfers.get(this.byPluginId.get(`${accountId}\0${offer.id}`)!);
      if (existing !== undefined && !TERMINAL.has(existing.info.state)) throw new Error(`a second offer with the id of transfer ${existing.info.id}`);
    }
    const id = newId();
    const proposed = typeof offer.name === 'string' ? offer.name : '';
    const name = safeFileName(proposed);
    const info: TransferInfo = { id, accountId, peer: offer.peer, direction: 'incoming', name: name ?? (printable(proposed) || '(no name)'), state: 'offered', bytes: 0, startedAt: Date.now() };
    const sizeValid = offer.size === undefined || (typeof offer.size === 'number' && Number.isSafeInteger(offer.size) && offer.size >= 0);
    if (sizeValid && offer.size !== undefined) info.size = offer.size;
    if (typeof offer.mimeType === 'string') info.mimeType = offer.mimeType.slice(0, 255);
    if (typeof offer.description === 'string') info.description = offer.description.slice(0, 4096);
    if (typeof offer.origin === 'string') info.origin = offer.origin.slice(0, 1024);
    const clean: IncomingFileOffer = { ...offer };
    if (offer.checksum !== undefined && !(typeof offer.checksum?.algorithm === 'string' && typeof offer.checksum.hex === 'string')) delete clean.checksum;
    const transfer = this.add(info, offer.id, clean);
    const from = `${offer.peer}`;
    if (name === undefined || !sizeValid) {
      this.refuse(transfer, new TransferError('transfer-bad-offer', name === undefined ? `${from} offered a file with no usable name ("${printable(proposed)}"); declined` : `${from} offered ${name} with an impossible size; declined`));
      return;
    }
    if (info.size !== undefined && info.size > this.deps.settings.maxIncomingSize) {
      this.refuse(transfer, new TransferError('transfer-too-large', `${from} offered ${name} of ${formatBytes(info.size)}, more than the limit of ${formatBytes(this.deps.settings.maxIncomingSize)}; declined`));
      return;
    }
    const renamed = name !== proposed ? ` (offered as "${printable(proposed)}")` : '';
    this.record(transfer, `${from} offers ${name}${renamed}${info.size === undefined ? '' : `, ${formatBytes(info.size)}`}`);
    if (this.deps.settings.autoAcceptFromBuddies && this.deps.buddies.find(accountId, offer.peer) !== undefined) {
      this.accept(id).catch((error: unknown) => this.deps.log.warn('could not accept a file automatically', { error: error instanceof Error ? error.message : String(error) }));
      return;
    }
    this.ask(transfer);
  }

  /** Asks the user about an offer; an answer through `accept`/`decline` first makes the question go away. */
  private ask(transfer: Transfer): void {
    const { info } = transfer;
    const prompt = new AbortController();
    transfer.prompt = prompt;
    const details: Record<string, string> = { From: info.peer, Name: info.name };
    if (info.size !== undefined) details.Size = formatBytes(info.size);
    if (info.origin !== undefined) details.From = `${info.peer} (${info.origin})`;
    const request = {
      kind: 'choice' as const,
      title: `${info.peer} wants to send you ${info.name}${info.size === undefined ? '' : ` (${formatBytes(info.size)})`}`,
      message: `Save it in ${this.deps.settings.downloadDir}?${info.description === undefined ? '' : `\n${info.description}`}`,
      choices: [
        { value: 'accept', label: `Accept: save in ${this.deps.settings.downloadDir}` },
        { value: 'decline', label: 'Decline' },
      ],
      default: 'accept',
    };
    this.deps.ui
      .request(request, { purpose: 'file-transfer', accountId: info.accountId, signal: prompt.signal })
      .then(async (answer) => {
        if (prompt.signal.aborted || transfer.info.state !== 'offered') return;
        transfer.prompt = undefined;
        // No answer (no UI, dismissed): the offer stays for `accept`/`decline` or the transfers window.
        if (answer === 'accept') await this.accept(info.id);
        else if (answer === 'decline') await this.decline(info.id);
      })
      .catch((error: unknown) => this.deps.log.warn('the answer to a file offer failed', { error: error instanceof Error ? error.message : String(error) }));
  }

  private progress(transfer: Transfer, bytes: number): void {
    if (transfer.maxBytes !== undefined && bytes > transfer.maxBytes) {
      void this.abortBy(transfer, new TransferError('transfer-oversize', `${transfer.info.peer} sent more than the ${formatBytes(transfer.maxBytes)} announced`));
      return;
    }
    transfer.info.bytes = bytes;
    const now = Date.now();
    transfer.samples.push({ at: now, bytes });
    while (transfer.samples.length > 2 && now - transfer.samples[0]!.at > RATE_WINDOW_MS) transfer.samples.shift();
    if (transfer.info.state === 'waiting') this.setState(transfer, 'transferring');
    if (now - transfer.lastEmit >= PROGRESS_EVENT_MS) this.emitProgress(transfer, now);
  }

  private emitProgress(transfer: Transfer, now = Date.now()): void {
    transfer.lastEmit = now;
    const view = this.view(transfer);
    const progress: TransferProgress = { bytes: view.bytes, rate: view.rate ?? 0 };
    if (view.size !== undefined) progress.size = view.size;
    if (view.eta !== undefined) progress.eta = view.eta;
    this.deps.events.emit('transferProgress', view, progress);
  }

  private async completed(transfer: Transfer, result: TransferCompletion | undefined): Promise<void> {
    transfer.finishing = true;
    if (transfer.info.direction === 'outgoing') {
      if (transfer.info.size !== undefined) transfer.info.bytes = transfer.info.size;
      if (typeof result?.url === 'string') transfer.info.url = result.url.slice(0, 4096);
      this.emitProgress(transfer);
      this.end(transfer, 'done');
      return;
    }
    try {
      const final = await this.verifyAndPlace(transfer, result);
      transfer.info.path = final;
      transfer.info.bytes = transfer.info.size ?? transfer.info.bytes;
      this.emitProgress(transfer);
      this.end(transfer, 'done');
    } catch (error) {
      const failure = asTransferError(error);
      await this.releaseTemp(transfer, failure);
      this.fail(transfer, failure);
    }
  }

  /** Checks the received file against the offer and moves it to its final name; returns that path. */
  private async verifyAndPlace(transfer: Transfer, result: TransferCompletion | undefined): Promise<string> {
    const temp = transfer.temp;
    const destination = transfer.destination;
    if (temp === undefined || destination === undefined) throw new TransferError('transfer-failed', 'The transfer completed before it was accepted');
    const size = (await stat(temp)).size;
    const announced = transfer.info.size;
    if (announced !== undefined && size > announced) throw new TransferError('transfer-oversize', `${transfer.info.peer} sent ${formatBytes(size)}, more than the ${formatBytes(announced)} announced`);
    if (announced !== undefined && size < announced) throw new TransferError('transfer-incomplete', `Only ${formatBytes(size)} of ${formatBytes(announced)} arrived`);
    if (size > (transfer.maxBytes ?? Infinity)) throw new TransferError('transfer-oversize', `${transfer.info.peer} sent more than the ${formatBytes(transfer.maxBytes!)} allowed`);
    transfer.info.bytes = size;
    for (const checksum of [transfer.offer?.checksum, result?.checksum]) {
      if (checksum !== undefined) await this.verifyChecksum(temp, checksum);
    }
    return this.place(temp, destination);
  }

  private async verifyChecksum(path: string, checksum: FileChecksum): Promise<void> {
    if (typeof checksum?.algorithm !== 'string' || typeof checksum.hex !== 'string') return;
    const algorithm = nodeHash(checksum.algorithm);
    if (algorithm === undefined) {
      this.deps.log.info('a checksum with an unknown algorithm was not checked', { algorithm: checksum.algorithm.slice(0, 32) });
      return;
    }
    const hash = createHash(algorithm);
    await pipeline(createReadStream(path), hash);
    const actual = hash.digest('hex');
    if (actual !== checksum.hex.toLowerCase()) throw new TransferError('transfer-checksum-mismatch', `The received file's ${checksum.algorithm} is ${actual}, the sender's ${checksum.hex.toLowerCase()}`);
  }

  /**
   * Gives the temporary file its final name without replacing anything: a
   * hard link fails if the name exists, so "name (1).ext" is tried next;
   * where links are not supported, the name is reserved exclusively first.
   */
  private async place(temp: string, destination: { dir: string; name: string; overwrite: boolean }): Promise<string> {
    if (destination.overwrite) {
      const final = join(destination.dir, destination.name);
      await rename(temp, final);
      return final;
    }
    for (let n = 0; n < 1000; n++) {
      const final = join(destination.dir, numberedName(destination.name, n));
      try {
        await link(temp, final);
        await unlink(temp);
        return final;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') continue;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw new TransferError('transfer-write-failed', `Cannot save ${final}: ${(error as Error).message}`, { cause: error });
      }
      // No hard links here: reserve the name, then move over the reservation (ours, empty).
      try {
        await (await open(final, 'wx', 0o600)).close();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new TransferError('transfer-write-failed', `Cannot save ${final}: ${(error as Error).message}`, { cause: error });
      }
      await rename(temp, final);
      return final;
    }
    throw new TransferError('transfer-write-failed', `Too many files named like ${destination.name} in ${destination.dir}`);
  }

  /** The core stops a transfer itself (the peer misbehaved): the plugin is told to cancel. */
  private async abortBy(transfer: Transfer, error: TransferError): Promise<void> {
    if (transfer.finishing === true) return;
    transfer.finishing = true;
    await this.tellPlugin(transfer, 'cancelFile');
    await this.removeTemp(transfer);
    this.fail(transfer, error);
  }

  private refuse(transfer: Transfer, error: TransferError): void {
    transfer.finishing = true;
    this.deps.log.warn(error.message, { account: transfer.info.accountId });
    void this.tellPlugin(transfer, 'declineFile').then(() => this.fail(transfer, error));
  }

  private async tellPlugin(transfer: Transfer, method: 'declineFile' | 'cancelFile'): Promise<void> {
    const connection = this.connectionOf(transfer);
    const fn = connection?.[method];
    if (connection === undefined || fn === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn.call(connection, transfer.pluginId),
        new Promise<void>((done) => {
          timer = setTimeout(done, CANCEL_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      this.deps.log.debug(`${method} failed`, { error: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The temporary file of a transfer that broke: kept (hidden, under its
   * temporary name) when the protocol can resume this offer and the bytes
   * so far are good, so the same file offered again continues from there;
   * removed otherwise.
   */
  private async releaseTemp(transfer: Transfer, error: ParleyError): Promise<void> {
    const temp = transfer.temp;
    const key = this.partialKey(transfer);
    const resumable = ['transfer-incomplete', 'transfer-interrupted', 'transfer-failed'].includes(error.code);
    if (temp === undefined || key === undefined || !resumable || transfer.destination === undefined) return this.removeTemp(transfer);
    let bytes: number;
    try {
      bytes = (await stat(temp)).size;
    } catch {
      return this.removeTemp(transfer);
    }
    if (bytes === 0 || bytes >= (transfer.info.size ?? 0)) return this.removeTemp(transfer);
    transfer.temp = undefined;
    const previous = this.partials.get(key);
    this.partials.set(key, { path: temp, dir: transfer.destination.dir });
    if (previous !== undefined && previous.path !== temp) await unlink(previous.path).catch(() => undefined);
  }

  /** Who sent which file: an offer of the same name and size from the same peer continues its part. */
  private partialKey(transfer: Transfer): string | undefined {
    if (transfer.offer?.resumable !== true || transfer.info.size === undefined) return undefined;
    if (this.capability(transfer.info.accountId)?.resume !== true) return undefined;
    return [transfer.info.accountId, transfer.info.peer.toLowerCase(), transfer.info.name, transfer.info.size].join('\0');
  }

  private async removeTemp(transfer: Transfer): Promise<void> {
    const temp = transfer.temp;
    transfer.temp = undefined;
    if (temp === undefined) return;
    try {
      await unlink(temp);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.deps.log.warn('could not remove a partial file', { path: temp, error: (error as Error).message });
    }
  }

  private connectionOf(transfer: Transfer): ProtocolConnection | undefined {
    return this.deps.accounts.connection(transfer.info.accountId);
  }

  private add(info: TransferInfo, pluginId: string, offer?: IncomingFileOffer): Transfer {
    const transfer: Transfer = { info, pluginId, samples: [], lastEmit: 0, settled: [] };
    if (offer !== undefined) transfer.offer = offer;
    this.transfers.set(info.id, transfer);
    this.byPluginId.set(`${info.accountId}\0${pluginId}`, info.id);
    this.prune();
    this.deps.events.emit('transferAdded', this.view(transfer));
    return transfer;
  }

  private prune(): void {
    const ended = [...this.transfers.values()].filter((t) => TERMINAL.has(t.info.state));
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) {
      this.transfers.delete(old.info.id);
      const key = `${old.info.accountId}\0${old.pluginId}`;
      if (this.byPluginId.get(key) === old.info.id) this.byPluginId.delete(key);
    }
  }

  private setState(transfer: Transfer, state: TransferState): void {
    if (transfer.info.state === state) return;
    transfer.info.state = state;
    this.deps.events.emit('transferChanged', this.view(transfer));
  }

  private fail(transfer: Transfer, error: TransferError | ParleyError): void {
    transfer.info.error = error.toJSON();
    this.end(transfer, 'failed');
  }

  private end(transfer: Transfer, state: 'done' | 'failed' | 'cancelled', extra: { cancelledBy?: 'user' | 'peer'; reason?: string } = {}): void {
    if (TERMINAL.has(transfer.info.state)) return;
    transfer.finishing = true;
    transfer.prompt?.abort();
    Object.assign(transfer.info, extra);
    transfer.info.endedAt = Date.now();
    this.setState(transfer, state);
    const { info } = transfer;
    const size = formatBytes(info.size ?? info.bytes);
    const seconds = (info.endedAt! - info.startedAt) / 1000;
    if (state === 'done') {
      this.record(transfer, info.direction === 'outgoing' ? `Sent ${info.name} (${size}) to ${info.peer}${seconds > 0 ? `, ${formatRate((info.size ?? info.bytes) / seconds)}` : ''}${info.url === undefined ? '' : `: ${info.url}`}` : `Received ${info.name} (${size}) from ${info.peer}: saved as ${info.path}`);
    } else if (state === 'failed') {
      this.record(transfer, `Transfer of ${info.name} ${info.direction === 'outgoing' ? 'to' : 'from'} ${info.peer} failed: ${info.error?.message ?? 'unknown error'}`, true);
    } else {
      const who = info.cancelledBy === 'peer' ? info.peer : 'you';
      this.record(transfer, `Transfer of ${info.name} ${info.direction === 'outgoing' ? 'to' : 'from'} ${info.peer} ${info.reason === 'declined' ? 'declined' : 'cancelled'} by ${who}${info.reason !== undefined && info.reason !== 'declined' ? ` (${info.reason})` : ''}`);
    }
    const view = this.view(transfer);
    for (const resolve of transfer.settled.splice(0)) resolve(view);
  }

  /** Writes a system line about the transfer in the conversation with the peer (and so the history). */
  private record(transfer: Transfer, text: string, error = false): void {
    this.deps.conversations.systemFor(transfer.info.accountId, { kind: 'im', peer: transfer.info.peer }, text, error ? { error: true } : {}).catch((failure: unknown) => {
      this.deps.log.warn('could not record a transfer in the history', { error: failure instanceof Error ? failure.message : String(failure) });
    });
  }

  private view(transfer: Transfer): TransferInfo {
    const info: TransferInfo = { ...transfer.info };
    if (info.error !== undefined) info.error = { ...info.error };
    if (info.state === 'transferring') {
      const first = transfer.samples[0];
      const last = transfer.samples[transfer.samples.length - 1];
      if (first !== undefined && last !== undefined && last.at > first.at) {
        const rate = ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
        info.rate = Math.max(0, rate);
        if (info.size !== undefined && rate > 0) info.eta = Math.max(0, (info.size - info.bytes) / rate);
      }
    }
    return info;
  }

  private require(id: string): Transfer {
    const transfer = this.transfers.get(id);
    if (transfer === undefined) throw new TransferError('transfer-unknown', `No transfer ${id}`);
    return transfer;
  }
}

function asTransferError(error: unknown): TransferError | ParleyError {
  if (isParleyError(error)) return error;
  return new TransferError('transfer-failed', error instanceof Error ? error.message : String(error), { cause: error });
}

/** A peer's text, safe to show on one line. */
function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) => (c === '\0' ? '\\0' : '?')).slice(0, 200);
}

