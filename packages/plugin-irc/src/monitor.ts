import type { Client } from 'irc-framework';
import type { ConnectionContext, Presence, RosterEntry } from '@parley/core';
import { OFFLINE } from '@parley/core';
import type { IdentityChange } from './identity.js';

const ONLINE = Object.freeze({ status: 'available' as const });
/** ISON takes nicks up to the line limit (RFC 2812 section 4.9); keep each query well inside it. */
const ISON_BATCH_BYTES = 400;

/**
 * Buddies online/offline. IRC has no server-side buddy list: the list is
 * this account's own (kept in its state), watched with MONITOR where the
 * server advertises it (IRCv3 monitor), else by polling ISON.
 */
export class BuddyWatch {
  private readonly watched = new Map<string, RosterEntry>();
  private readonly online = new Set<string>();
  /** Away messages of watched buddies, from away-notify. */
  private readonly away = new Map<string, string>();
  /** Details last reported for each buddy, so an account tag on every message is reported once. */
  private readonly info = new Map<string, Record<string, string>>();
  private timer: NodeJS.Timeout | undefined;
  private useMonitor = false;
  private running = false;
  /** The nicks each ISON in flight asked about, oldest first (replies come in order). */
  private pendingIson: string[][] = [];

  constructor(
    private readonly client: Client,
    private readonly ctx: ConnectionContext,
    private readonly isonIntervalMs: number,
    /** Writes a line through flood control (flood.ts): a long buddy list is watched without flooding. */
    private readonly write: (line: string, options?: { ahead?: boolean }) => void = (line) => client.raw(line),
  ) {
    // IRC has no server-side list: the core's list is the one to watch (it holds buddies added
    // while offline too); the list saved by earlier versions of this plugin is merged in.
    for (const entry of [...(ctx.getState<RosterEntry[]>('buddies') ?? []), ...ctx.buddies.list()]) {
      if (typeof entry?.name === 'string') this.watched.set(this.key(entry.name), entry);
    }
    client.on('users online', (e) => this.onOnline(e.nicks));
    client.on('users offline', (e) => this.onOffline(e.nicks));
    // ISUPPORT (005) comes after the welcome that starts us: switch once the server says it has MONITOR.
    client.on('server options', () => {
      if (this.running && !this.useMonitor && this.monitorFits()) this.useMonitorNow();
    });
  }

  /**
   * Whether MONITOR can watch the whole list: the server advertises it
   * (ISUPPORT `MONITOR[=limit]`) and the list is within its limit; a list
   * that does not fit is polled with ISON instead of half-watched.
   */
  private monitorFits(): boolean {
    const value = this.client.network.supports('MONITOR');
    if (value === undefined || value === false) return false;
    const limit = Number(value);
    return value === true || value === '' || !Number.isFinite(limit) || limit <= 0 || this.watched.size <= limit;
  }

  private useMonitorNow(): void {
    this.useMonitor = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.pendingIson = [];
    for (const batch of this.batches(this.entries().map((e) => e.name), ',')) this.write(`MONITOR + ${batch}`, { ahead: true });
  }

  private useIsonNow(): void {
    if (this.useMonitor) this.write('MONITOR C', { ahead: true });
    this.useMonitor = false;
    this.poll();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = setInterval(() => this.poll(), this.isonIntervalMs);
    this.timer.unref();
  }

  private key(nick: string): string {
    return this.client.caseLower(nick);
  }

  entries(): RosterEntry[] {
    return [...this.watched.values()];
  }

  /** After registration: publish the list and start watching. */
  start(): void {
    this.running = true;
    this.ctx.buddies.sync(this.entries());
    // IRC keeps no list on the server: the list is ours, and it is applied now.
    this.ctx.buddies.synced();
    this.useMonitor = false;
    if (this.monitorFits()) this.useMonitorNow();
    else this.useIsonNow();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(entry: RosterEntry): void {
    this.watched.set(this.key(entry.name), entry);
    this.save();
    this.ctx.buddies.upsert(entry);
    if (!this.running) return;
    if (!this.useMonitor) this.poll();
    else if (this.monitorFits()) this.write(`MONITOR + ${entry.name}`, { ahead: true });
    else this.useIsonNow();
  }

  remove(name: string): void {
    this.watched.delete(this.key(name));
    this.online.delete(this.key(name));
    this.save();
    this.ctx.buddies.remove(name);
    if (this.running && this.useMonitor) this.write(`MONITOR - ${name}`, { ahead: true });
  }

  private save(): void {
    this.ctx.setState('buddies', this.entries());
  }

  private *batches(nicks: string[], separator: string): Generator<string> {
    let current: string[] = [];
    let bytes = 0;
    for (const nick of nicks) {
      if (bytes + nick.length + 1 > ISON_BATCH_BYTES && current.length > 0) {
        yield current.join(separator);
        current = [];
        bytes = 0;
      }
      current.push(nick);
      bytes += nick.length + 1;
    }
    if (current.length > 0) yield current.join(separator);
  }

  private poll(): void {
    if (!this.client.connected) return;
    // A poll still queued behind flood control or unanswered: another would only pile up behind it.
    if (this.pendingIson.length > 0) return;
    for (const batch of this.batches(this.entries().map((e) => e.name), ' ')) {
      this.pendingIson.push(batch.split(' '));
      this.write(`ISON ${batch}`);
    }
  }

  private onOnline(nicks: string[]): void {
    const present = new Set(nicks.filter((n) => n !== '').map((n) => this.key(n)));
    if (!this.useMonitor) {
      // An ISON reply lists who of the asked nicks is online: the others are offline.
      const asked = this.pendingIson.shift() ?? [];
      for (const nick of asked) if (!present.has(this.key(nick))) this.set(nick, false);
    }
    for (const k of present) {
      const entry = this.watched.get(k);
      if (entry !== undefined) this.set(entry.name, true);
    }
  }

  private onOffline(nicks: string[]): void {
    for (const nick of nicks) {
      const entry = this.watched.get(this.key(nick));
      if (entry !== undefined) this.set(entry.name, false);
    }
  }

  /**
   * IRCv3 away-notify (https://ircv3.net/specs/extensions/away-notify): a
   * buddy we share a channel with set an away message (or cleared it, with
   * undefined). A buddy that AWAY tells about is online.
   */
  awayChanged(nick: string, message: string | undefined): void {
    const k = this.key(nick);
    const entry = this.watched.get(k);
    if (entry === undefined) return;
    const text = message?.replace(/[\r\n\0]+/g, ' ').trim().slice(0, 500);
    if (text === undefined || text === '') this.away.delete(k);
    else this.away.set(k, text);
    this.online.add(k);
    this.ctx.buddies.presence(entry.name, this.presenceOf(k));
  }

  /**
   * A buddy's account (account-notify, account-tag, extended-join), user and
   * host (chghost) or real name (setname) changed: its details follow, with
   * the labels of the WHOIS details (whois.ts).
   */
  identityChanged(change: IdentityChange): void {
    const entry = this.watched.get(this.key(change.nick));
    if (entry === undefined) return;
    const info: Record<string, string> = {};
    if (change.account !== undefined) info.Account = change.account ?? 'not logged in';
    if (change.user !== undefined) info.User = change.user;
    if (change.host !== undefined) info.Host = change.host;
    if (change.realName !== undefined) info['Real name'] = change.realName;
    const known = this.info.get(this.key(change.nick)) ?? {};
    if (Object.entries(info).every(([label, value]) => known[label] === value)) return;
    this.info.set(this.key(change.nick), { ...known, ...info });
    this.ctx.buddies.info(entry.name, info);
  }

  private presenceOf(k: string): Presence {
    const away = this.away.get(k);
    return away === undefined ? ONLINE : { status: 'away', message: away };
  }

  private set(name: string, online: boolean): void {
    const k = this.key(name);
    if (!this.watched.has(k)) return;
    if (online === this.online.has(k)) return;
    if (online) this.online.add(k);
    else {
      this.online.delete(k);
      this.away.delete(k);
    }
    this.ctx.buddies.presence(this.watched.get(k)!.name, online ? this.presenceOf(k) : OFFLINE);
  }
}
