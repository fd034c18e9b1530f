import type { Client, KickEvent, ModeEvent, UserlistEvent } from 'irc-framework';
import type { ChatParticipant, ConnectionContext } from '@parley/core';
import { IrcError } from './errors.js';
import { accountName, realName as cleanRealName, type IdentityChange } from './identity.js';
import { singleLine, word } from './sanitize.js';

/** Channel membership prefixes (RFC 2811 section 4.1 and the common PREFIX extensions) as the core's roles. */
const ROLES: Record<string, { role: NonNullable<ChatParticipant['role']>; label: string; rank: number }> = {
  q: { role: 'owner', label: 'founder', rank: 5 },
  a: { role: 'admin', label: 'protected', rank: 4 },
  o: { role: 'admin', label: 'operator', rank: 3 },
  h: { role: 'moderator', label: 'half-operator', rank: 2 },
  v: { role: 'voice', label: 'voice', rank: 1 },
};

export function participantFor(nick: string, modes: Iterable<string>, who?: Who): ChatParticipant {
  let best: (typeof ROLES)[string] | undefined;
  for (const mode of modes) {
    const r = ROLES[mode];
    if (r !== undefined && (best === undefined || r.rank > best.rank)) best = r;
  }
  const participant: ChatParticipant = best === undefined ? { nick, role: 'member' } : { nick, role: best.role, roleLabel: best.label };
  if (who?.account) participant.account = who.account;
  if (who?.realName !== undefined) participant.realName = who.realName;
  return participant;
}

/** What the server told us about a member: its account (null: none) and real name. */
export interface Who {
  account?: string | null;
  realName?: string;
}

/** WHOX token of our WHO queries (https://ircv3.net/specs/extensions/whox), told apart from the user's own. */
const WHOX_TOKEN = '152';

/** Numerics that refuse a JOIN (RFC 2812 section 3.2.1). */
const JOIN_ERRORS = new Set(['403', '405', '437', '471', '473', '474', '475', '476', '477', '489']);

interface Member extends Who {
  nick: string;
  modes: Set<string>;
}

interface Channel {
  name: string;
  members: Map<string, Member>;
  /** NAMES replies are collected before the list is complete. */
  joined: boolean;
}

interface PendingJoin {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Channels as group chats: membership, roles, topic, and the joins, parts,
 * quits, kicks and nick changes shown in the conversation.
 */
export class Channels {
  private readonly channels = new Map<string, Channel>();
  private readonly pending = new Map<string, PendingJoin[]>();

  constructor(
    private readonly client: Client,
    private readonly ctx: ConnectionContext,
    /** Keys of keyed channels, kept for the rejoin after a reconnect. */
    private readonly keys: Map<string, string>,
    /** Writes a line through flood control (flood.ts): joins, parts and WHOs are paced like messages. */
    private readonly write: (line: string, options?: { written?: () => void; ahead?: boolean }) => void,
    private readonly joinTimeoutMs = 15_000,
  ) {
    client.on('join', (e) => this.onJoin(e.channel, e.nick, e.gecos, e.account));
    client.on('part', (e) => this.onLeave(e.channel, e.nick, e.message, 'part'));
    client.on('kick', (e) => this.onKick(e));
    client.on('quit', (e) => this.onQuit(e.nick, e.message));
    client.on('nick', (e) => this.onNick(e.nick, e.new_nick));
    client.on('userlist', (e) => this.onNames(e));
    client.on('topic', (e) => this.onTopic(e.channel, e.topic, e.nick));
    client.on('mode', (e) => this.onMode(e));
  }

  private key(name: string): string {
    return this.client.caseLower(name);
  }

  private isSelf(nick: string): boolean {
    return this.client.caseCompare(nick, this.client.user.nick);
  }

  isChannel(name: string): boolean {
    const types = this.client.network.options.CHANTYPES;
    const prefixes = Array.isArray(types) ? (types as string[]) : ['#', '&', '+', '!'];
    return name.length > 0 && prefixes.includes(name[0]!);
  }

  isJoined(name: string): boolean {
    return this.channels.get(this.key(name))?.joined === true;
  }

  joinedChannels(): string[] {
    return [...this.channels.values()].filter((c) => c.joined).map((c) => c.name);
  }

  /** Sends JOIN; resolves when the server confirms it, rejects with the server's refusal. */
  join(room: string, key?: string): Promise<void> {
    word(room, 'channel');
    if (key !== undefined && key !== '') word(key, 'channel key');
    if (!this.isChannel(room)) return Promise.reject(new IrcError('irc-invalid-input', `"${room}" is not a channel name`));
    const k = this.key(room);
    if (key !== undefined && key !== '') this.keys.set(k, key);
    if (this.isJoined(room)) return Promise.resolve();
    const storedKey = key !== undefined && key !== '' ? key : this.keys.get(k);
    return new Promise<void>((resolve, reject) => {
      const entry: PendingJoin = { resolve, reject, timer: undefined };
      const list = this.pending.get(k) ?? [];
      list.push(entry);
      this.pending.set(k, list);
      // The wait for the answer starts when flood control lets the JOIN out, not while it queues.
      // A JOIN goes ahead of waiting messages: after a reconnect they are for the channel it rejoins.
      this.write(storedKey === undefined ? `JOIN ${room}` : `JOIN ${room} ${storedKey}`, {
        ahead: true,
        written: () => {
          if (!this.pending.get(k)?.includes(entry)) return;
          entry.timer = setTimeout(() => this.settle(k, new IrcError('irc-timeout', `The server did not answer the JOIN for ${room}`)), this.joinTimeoutMs);
        },
      });
    });
  }

  part(room: string, reason?: string): void {
    word(room, 'channel');
    this.keys.delete(this.key(room));
    if (reason !== undefined && reason !== '') this.write(`PART ${room} :${singleLine(reason, 'part message')}`);
    else this.write(`PART ${room}`);
  }

  setTopic(room: string, topic: string): void {
    word(room, 'channel');
    this.write(`TOPIC ${room} :${singleLine(topic, 'topic')}`);
  }

  /**
   * Someone's account, user@host or real name changed (identity.ts): the
   * participant lists that hold them are updated quietly, without a line in
   * the conversation (chghost exists so that this is no fake quit and rejoin).
   */
  identityChanged(change: IdentityChange): void {
    const lower = this.client.caseLower(change.nick);
    for (const channel of this.channels.values()) {
      const member = channel.members.get(lower);
      if (member === undefined) continue;
      let changed = false;
      if (change.account !== undefined && member.account !== change.account) {
        member.account = change.account;
        changed = true;
      }
      if (change.realName !== undefined && member.realName !== change.realName) {
        member.realName = change.realName;
        changed = true;
      }
      if (changed && channel.joined) this.ctx.chats.participantJoined(channel.name, participantFor(member.nick, member.modes, member), true);
    }
  }

  /**
   * RPL_WHOSPCRPL (354) to our WHOX query `%tcnfar`: token, channel, nick,
   * flags, account and real name of each member (fields come in the spec's
   * fixed order). Accounts of those already in the channel at our join,
   * which extended-join only gives for later joiners.
   */
  onWhox(params: readonly string[]): boolean {
    const [, token, channelName, nick, , account, gecos] = params;
    if (token !== WHOX_TOKEN || params.length !== 7 || channelName === undefined || nick === undefined) return false;
    const channel = this.channels.get(this.key(channelName));
    const member = channel?.members.get(this.client.caseLower(nick));
    if (channel === undefined || member === undefined) return true;
    // WHOX gives 0 for no account.
    const acct = account === '0' ? null : accountName(account);
    const name = cleanRealName(gecos);
    let changed = false;
    if (acct !== undefined && member.account !== acct) {
      member.account = acct;
      changed = true;
    }
    if (name !== undefined && member.realName !== name) {
      member.realName = name;
      changed = true;
    }
    if (changed && channel.joined) this.ctx.chats.participantJoined(channel.name, participantFor(member.nick, member.modes, member), true);
    return true;
  }

  /** A numeric the server sent; JOIN refusals reject the waiting join. */
  onNumeric(numeric: string, params: readonly string[]): void {
    if (!JOIN_ERRORS.has(numeric)) return;
    const channel = params[1];
    const text = params[params.length - 1] ?? '';
    if (channel === undefined) return;
    const k = this.key(channel);
    if (numeric === '475') this.keys.delete(k);
    if (this.pending.has(k)) this.settle(k, new IrcError('irc-server-refused', `Cannot join ${channel}: ${text}`, numeric));
    else this.ctx.notice(`Cannot join ${channel}: ${text}`, undefined, true);
  }

  private settle(k: string, error?: Error): void {
    const list = this.pending.get(k);
    if (list === undefined) return;
    this.pending.delete(k);
    for (const p of list) {
      clearTimeout(p.timer);
      if (error === undefined) p.resolve();
      else p.reject(error);
    }
  }

  /** The connection closed: waiting joins fail, membership is forgotten (the core rejoins). */
  reset(error: Error): void {
    for (const k of [...this.pending.keys()]) this.settle(k, error);
    this.channels.clear();
  }

  private onJoin(name: string | undefined, nick: string, gecos?: string, account?: string | false): void {
    if (name === undefined) return;
    const k = this.key(name);
    if (this.isSelf(nick)) {
      this.channels.set(k, { name, members: new Map([[this.client.caseLower(nick), { nick, modes: new Set() }]]), joined: true });
      this.ctx.chats.joined(name, { nick });
      this.settle(k);
      // Who is behind each nick already there (WHOX: https://ircv3.net/specs/extensions/whox).
      if (this.client.network.supports('WHOX') !== false && this.client.network.supports('WHOX') !== undefined) this.write(`WHO ${name} %tcnfar,${WHOX_TOKEN}`, { ahead: true });
      return;
    }
    const channel = this.channels.get(k);
    if (channel === undefined) return;
    // extended-join: the account (false for none, which the library turns `*` into) and the real name.
    const member: Member = { nick, modes: new Set() };
    const acct = account === false ? null : accountName(account);
    if (acct !== undefined) member.account = acct;
    const fullName = cleanRealName(gecos);
    if (fullName !== undefined) member.realName = fullName;
    channel.members.set(this.client.caseLower(nick), member);
    this.ctx.chats.participantJoined(name, participantFor(nick, member.modes, member));
  }

  private onLeave(name: string, nick: string, reason: string, kind: 'part' | 'kick'): void {
    const k = this.key(name);
    const channel = this.channels.get(k);
    if (channel === undefined) return;
    if (this.isSelf(nick)) {
      this.channels.delete(k);
      this.ctx.chats.left(name, kind === 'part' ? undefined : reason);
      return;
    }
    channel.members.delete(this.client.caseLower(nick));
    this.ctx.chats.participantLeft(name, nick, reason || undefined, kind);
  }

  private onKick(e: KickEvent): void {
    const k = this.key(e.channel);
    const channel = this.channels.get(k);
    if (channel === undefined) return;
    const why = `by ${e.nick}${e.message && e.message !== e.kicked ? `: ${e.message}` : ''}`;
    if (this.isSelf(e.kicked)) {
      this.channels.delete(k);
      this.ctx.chats.system(e.channel, `You were kicked ${why}`, true);
      this.ctx.chats.left(e.channel, `kicked ${why}`);
      return;
    }
    channel.members.delete(this.client.caseLower(e.kicked));
    this.ctx.chats.participantLeft(e.channel, e.kicked, why, 'kick');
  }

  private onQuit(nick: string, reason: string): void {
    const lower = this.client.caseLower(nick);
    for (const channel of this.channels.values()) {
      if (channel.members.delete(lower)) this.ctx.chats.participantLeft(channel.name, nick, reason || undefined, 'quit');
    }
  }

  private onNick(oldNick: string, newNick: string): void {
    const lower = this.client.caseLower(oldNick);
    for (const channel of this.channels.values()) {
      const member = channel.members.get(lower);
      if (member === undefined) continue;
      channel.members.delete(lower);
      channel.members.set(this.client.caseLower(newNick), { ...member, nick: newNick });
      this.ctx.chats.participantRenamed(channel.name, oldNick, newNick);
    }
  }

  private onNames(e: UserlistEvent): void {
    const channel = this.channels.get(this.key(e.channel));
    if (channel === undefined) return;
    const before = channel.members;
    channel.members = new Map(
      e.users
        .filter((u) => u.nick)
        .map((u) => {
          const lower = this.client.caseLower(u.nick);
          const known = before.get(lower);
          const member: Member = { nick: u.nick, modes: new Set(u.modes) };
          if (known?.account !== undefined) member.account = known.account;
          if (known?.realName !== undefined) member.realName = known.realName;
          return [lower, member];
        }),
    );
    this.ctx.chats.participants(channel.name, this.participants(channel));
  }

  private participants(channel: Channel): ChatParticipant[] {
    return [...channel.members.values()].map((m) => participantFor(m.nick, m.modes, m));
  }

  private onTopic(name: string, topic: string, setBy?: string): void {
    if (!this.channels.has(this.key(name))) return;
    this.ctx.chats.topic(name, topic, setBy);
  }

  private onMode(e: ModeEvent): void {
    const channel = this.channels.get(this.key(e.target));
    if (channel === undefined) return;
    let rolesChanged = false;
    for (const m of e.modes) {
      const letter = m.mode.slice(1);
      if (ROLES[letter] !== undefined && typeof m.param === 'string') {
        const member = channel.members.get(this.client.caseLower(m.param));
        if (member === undefined) continue;
        if (m.mode.startsWith('+')) member.modes.add(letter);
        else member.modes.delete(letter);
        rolesChanged = true;
      }
    }
    const text = e.modes.map((m) => (typeof m.param === 'string' ? `${m.mode} ${m.param}` : m.mode)).join(' ');
    if (text !== '') this.ctx.chats.system(channel.name, `${e.nick || 'The server'} sets mode ${text}`);
    if (rolesChanged) this.ctx.chats.participants(channel.name, this.participants(channel));
  }
}
