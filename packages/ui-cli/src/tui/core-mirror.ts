import { EventEmitter } from 'node:events';
import type { AccountInfo, AccountStatus, Buddy, CommandInfo, ContactView, ConversationKind, ConversationView, CoreSnapshot, ParleyClient, ParleyEventMap, Presence, ProtocolDescriptor, TransferInfo } from '@parley/core';

/** The core's events the client draws from; each one may change what the snapshot holds. */
const FOLLOWED = [
  'accountAdded',
  'accountUpdated',
  'accountRemoved',
  'accountStatusChanged',
  'accountDisconnected',
  'conversationCreated',
  'conversationClosed',
  'conversationRead',
  'conversationTopicChanged',
  'conversationParticipantsChanged',
  'chatJoined',
  'chatLeft',
  'typingChanged',
  'chatTypingChanged',
  'messageWritten',
  'messageSent',
  'messageDelivered',
  'messageFailed',
  'buddyListChanged',
  'buddyPresenceChanged',
  'authorizationRequested',
  'presenceChanged',
  'pluginFault',
  'transferAdded',
  'transferChanged',
] as const satisfies ReadonlyArray<keyof ParleyEventMap>;

export type FollowedEvent = (typeof FOLLOWED)[number];

/**
 * What the interactive client reads while it draws, kept in this process
 * whether the core runs here or in the home's owner: the core's snapshot,
 * read again after each burst of events. An event reaches the client only
 * once the snapshot that includes it is in place, so the screen never shows
 * a message in a conversation it does not know yet.
 */
export class CoreMirror {
  private state: CoreSnapshot;
  private readonly emitter = new EventEmitter();
  private readonly unfollow: Array<() => void> = [];
  private pending: Array<{ name: FollowedEvent; args: unknown[] }> = [];
  private refreshing: Promise<void> | undefined;
  private again = false;
  private closed = false;

  private constructor(
    readonly client: ParleyClient,
    initial: CoreSnapshot,
  ) {
    this.state = initial;
  }

  /** Follows the core's events first, then reads the snapshot, so nothing that happens in between is missed. */
  static async open(client: ParleyClient): Promise<CoreMirror> {
    const early: Array<{ name: FollowedEvent; args: unknown[] }> = [];
    let mirror: CoreMirror | undefined;
    const listeners = FOLLOWED.map((name) => {
      const listener = (...args: unknown[]) => (mirror === undefined ? early.push({ name, args }) : mirror.received(name, args));
      client.events.on(name, listener as never);
      return () => client.events.off(name, listener as never);
    });
    const snapshot = await client.snapshot();
    mirror = new CoreMirror(client, snapshot);
    mirror.unfollow.push(...listeners);
    // Progress changes one transfer's numbers only: applied as it comes, without reading the whole snapshot again.
    const progress = (transfer: TransferInfo) => mirror?.progressed(transfer);
    client.events.on('transferProgress', progress);
    mirror.unfollow.push(() => client.events.off('transferProgress', progress));
    for (const event of early) mirror.received(event.name, event.args);
    return mirror;
  }

  /** Listens to one of the core's events, delivered after the snapshot that includes it. */
  on<E extends FollowedEvent>(name: E, listener: (...args: ParleyEventMap[E]) => void): () => void {
    this.emitter.on(name, listener as never);
    return () => this.emitter.off(name, listener as never);
  }

  /** Called after every refresh of the snapshot. */
  onChange(listener: () => void): () => void {
    this.emitter.on('changed', listener);
    return () => this.emitter.off('changed', listener);
  }

  close(): void {
    this.closed = true;
    for (const off of this.unfollow.splice(0)) off();
    this.emitter.removeAllListeners();
  }

  /** Latest progress of transfers, by id, newer than the snapshot's. */
  private readonly progress = new Map<string, TransferInfo>();

  private progressed(transfer: TransferInfo): void {
    if (this.closed) return;
    this.progress.set(transfer.id, transfer);
    this.emitter.emit('changed');
  }

  private received(name: FollowedEvent, args: unknown[]): void {
    if (this.closed) return;
    this.pending.push({ name, args });
    this.refresh();
  }

  /** Reads the snapshot again (one read at a time; events during a read cause one more). */
  refresh(): Promise<void> {
    if (this.refreshing !== undefined) {
      this.again = true;
      return this.refreshing;
    }
    const run: { promise?: Promise<void>; ended: boolean } = { ended: false };
    run.promise = this.deliverUntilDone(run);
    if (!run.ended) this.refreshing = run.promise;
    return run.promise;
  }

  /**
   * Reads the snapshot and hands out the events it includes, until no event
   * is waiting. It marks itself ended in the same turn as its last check: an
   * event that came a turn later to a run still marked as going would count
   * on that run and wait for the next event.
   */
  private async deliverUntilDone(run: { promise?: Promise<void>; ended: boolean }): Promise<void> {
    try {
      do {
        this.again = false;
        const events = this.pending.splice(0);
        let snapshot: CoreSnapshot;
        try {
          snapshot = await this.client.snapshot();
        } catch {
          // The core is gone; whoever holds the connection reports it.
          return;
        }
        if (this.closed) return;
        this.state = snapshot;
        this.progress.clear();
        for (const event of events) this.emitter.emit(event.name, ...event.args);
        this.emitter.emit('changed');
      } while (this.again || this.pending.length > 0);
    } finally {
      run.ended = true;
      if (this.refreshing === run.promise) this.refreshing = undefined;
    }
  }

  // ---- reads ------------------------------------------------------------

  accounts(): AccountInfo[] {
    return this.state.accounts.map((a) => a.account);
  }

  /** An account by id, or `protocol:username`; undefined when there is none. */
  account(ref: string): AccountInfo | undefined {
    const byId = this.state.accounts.find((a) => a.account.id === ref)?.account;
    if (byId !== undefined) return byId;
    const colon = ref.indexOf(':');
    if (colon <= 0) return undefined;
    const protocol = ref.slice(0, colon);
    const username = ref.slice(colon + 1).toLowerCase();
    return this.state.accounts.find((a) => a.account.protocol === protocol && a.account.username.toLowerCase() === username)?.account;
  }

  status(accountId: string): AccountStatus {
    return this.state.accounts.find((a) => a.account.id === accountId)?.status ?? { state: 'offline' };
  }

  presence(): Presence {
    return this.state.presence;
  }

  conversations(): readonly ConversationView[] {
    return this.state.conversations;
  }

  conversation(id: string): ConversationView | undefined {
    return this.state.conversations.find((c) => c.id === id);
  }

  findConversation(accountId: string, kind: ConversationKind, name: string): ConversationView | undefined {
    const lower = name.toLowerCase();
    return this.state.conversations.find((c) => c.accountId === accountId && c.kind === kind && c.name.toLowerCase() === lower);
  }

  groups(): readonly string[] {
    return this.state.groups;
  }

  contacts(): readonly ContactView[] {
    return this.state.contacts;
  }

  findBuddy(accountId: string, name: string): { contact: ContactView; buddy: Buddy } | undefined {
    const lower = name.toLowerCase();
    for (const contact of this.state.contacts) {
      const buddy = contact.buddies.find((b) => b.accountId === accountId && b.name.toLowerCase() === lower);
      if (buddy !== undefined) return { contact, buddy };
    }
    return undefined;
  }

  /** File transfers going on and recently ended, oldest first, with their latest progress. */
  transfers(): TransferInfo[] {
    const known = (this.state.transfers ?? []).map((t) => {
      const newer = this.progress.get(t.id);
      return newer !== undefined && newer.state === t.state ? newer : t;
    });
    const ids = new Set(known.map((t) => t.id));
    return [...known, ...[...this.progress.values()].filter((t) => !ids.has(t.id))];
  }

  protocols(): readonly ProtocolDescriptor[] {
    return this.state.protocols;
  }

  protocol(id: string): ProtocolDescriptor | undefined {
    return this.state.protocols.find((p) => p.id === id);
  }

  /** The core's slash commands that apply in a conversation of `protocol`; every one when undefined (as the core's /help lists them). */
  commands(protocol?: string): CommandInfo[] {
    return this.state.commands.filter((c) => protocol === undefined || c.protocol === undefined || c.protocol === protocol);
  }
}
