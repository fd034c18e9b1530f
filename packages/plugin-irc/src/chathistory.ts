import type { ArchivedMessage, ArchivePage, ConnectionContext, IncomingMessage, Target } from '@parley/core';
import type { Batch } from './batch.js';
import { IrcError } from './errors.js';
import { CTCP_DELIM } from './ctcp.js';
import { messageId, serverTime, type ParsedLine } from './incoming.js';

/**
 * IRCv3 chat history playback (https://ircv3.net/specs/extensions/chathistory,
 * `draft/chathistory`): what was said while this account was away is fetched
 * from the server instead of being lost.
 *
 * The plugin remembers, per conversation, the server time of the last message
 * it saw there (live or played back), and the latest such time over all of
 * them; both survive restarts in the account's state. On sign-in it asks
 * which private conversations had messages since then (`CHATHISTORY TARGETS`)
 * and fetches each (`CHATHISTORY AFTER`); on joining a channel it fetches the
 * channel since its own mark. A channel or peer never seen before is not
 * fetched (its mark starts at the join). Full pages are followed by the next
 * page, up to a bound. Messages come in `chathistory` batches, each delivered
 * once with the server's time and msgid (the core drops a msgid it has seen)
 * and flagged delayed; the marks only move forward, so a reconnect fetches
 * nothing twice.
 */

/** Messages asked for per request, when the server allows as many (ISUPPORT CHATHISTORY=n). */
const PAGE = 100;
/** Pages fetched for one conversation at one sign-in or join, at most. */
const MAX_PAGES = 10;
/** Conversations whose mark is kept, at most (the oldest are forgotten). */
const MAX_MARKS = 500;
/** Messages taken from one batch, at most: a server cannot make us hold more. */
const MAX_BATCH_MESSAGES = 5000;
/** Marks are saved at most this often while messages flow (and when the link closes). */
const SAVE_EVERY_MS = 1000;
/** A request the server has not answered in this long failed. */
const ANSWER_TIMEOUT_MS = 30_000;
const STATE_KEY = 'chathistory';

interface SavedMarks {
  /** Lower-cased conversation name → ISO time of the last message seen there. */
  marks: Record<string, string>;
  /** The latest of all marks: where TARGETS starts. */
  last?: string;
  /** Lower-cased conversation name → ISO time of the earliest message seen there: where scrolling back starts. */
  oldest?: Record<string, string>;
  /** And its msgid, when it had one: messages said in the same millisecond are told apart by it. */
  oldestIds?: Record<string, string>;
}

export interface ChatHistoryDeps {
  ctx: Pick<ConnectionContext, 'receiveMessage' | 'getState' | 'setState' | 'log' | 'notice'>;
  write(line: string): void;
  /** Whether the server offers chat history now (the capability is enabled). */
  available(): boolean;
  /** ISUPPORT CHATHISTORY: the most messages one request may return (0 or undefined: no limit given). */
  serverLimit(): number | undefined;
  isChannel(name: string): boolean;
  ownNick(): string;
  sameName(a: string, b: string): boolean;
  fold(name: string): string;
}

interface Fetch {
  target: string;
  pages: number;
  /** Failed when the server has not answered by then (no silence: the user is told). */
  timer: NodeJS.Timeout;
}

/** An older page asked for by the user (scrolling back). */
interface Page {
  target: string;
  timer: NodeJS.Timeout;
  /** With how many messages came, and how many items the server sent (events included). */
  resolve(delivered: number, items: number): void;
  reject(error: IrcError): void;
  /** For the core's archive requests: the messages are collected and returned, not delivered. */
  collect?: ArchivedMessage[];
}

interface Playback {
  target: string;
  count: number;
  /** Of them, messages delivered. */
  delivered: number;
  /** Whether we asked for this batch (a server may also replay on join by itself). */
  requested: boolean;
  /** Whether it answers a request for an older page. */
  page: boolean;
  /** Where its messages go instead of the conversation (an archive request). */
  collect: ArchivedMessage[] | undefined;
}

const SAFE_TARGET = /^[^\s,:\0][^\s,\0]{0,199}$/;
/** A cursor this plugin hands out (archive): one word that can go back into a CHATHISTORY line. */
const CURSOR = /^(?:msgid=[\x21-\x7e]{1,128}|timestamp=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/;
/** A msgid that can go back into a command line as one word (https://ircv3.net/specs/extensions/message-ids). */
const MSGID = /^[\x21-\x39\x3b-\x7e][\x21-\x7e]{0,127}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;

export class ChatHistory {
  private readonly marks = new Map<string, number>();
  private last: number | undefined;
  /** Requests sent and not answered yet, by folded target. */
  private readonly fetching = new Map<string, Fetch>();
  /** Older pages asked for and not answered yet, by folded target. */
  private readonly paging = new Map<string, Page>();
  /** The earliest server time seen in each conversation (kept with the marks): where the next older page ends. */
  private readonly oldest = new Map<string, number>();
  /** The msgid of that earliest message, where it had one. */
  private readonly oldestIds = new Map<string, string>();
  /** Open chathistory batches, by batch id. */
  private readonly playbacks = new Map<string, Playback>();
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ChatHistoryDeps) {
    const saved = deps.ctx.getState<SavedMarks>(STATE_KEY);
    if (saved !== undefined && typeof saved === 'object' && saved !== null) {
      const marks = typeof saved.marks === 'object' && saved.marks !== null ? saved.marks : {};
      for (const [name, iso] of Object.entries(marks).slice(-MAX_MARKS)) {
        const time = typeof iso === 'string' && ISO.test(iso) ? Date.parse(iso) : NaN;
        if (Number.isFinite(time)) this.marks.set(name, time);
      }
      const oldest = typeof saved.oldest === 'object' && saved.oldest !== null ? saved.oldest : {};
      for (const [name, iso] of Object.entries(oldest).slice(-MAX_MARKS)) {
        const time = typeof iso === 'string' && ISO.test(iso) ? Date.parse(iso) : NaN;
        if (Number.isFinite(time)) this.oldest.set(name, time);
      }
      const ids = typeof saved.oldestIds === 'object' && saved.oldestIds !== null ? saved.oldestIds : {};
      for (const [name, id] of Object.entries(ids)) if (this.oldest.has(name) && typeof id === 'string' && MSGID.test(id)) this.oldestIds.set(name, id);
      const last = typeof saved.last === 'string' && ISO.test(saved.last) ? Date.parse(saved.last) : NaN;
      if (Number.isFinite(last)) this.last = last;
    }
  }

  /** A live message (or our own echo) in `conversation` at server time `time`: move its mark. */
  seen(conversation: string, time: number | undefined, msgid?: string, startsOlderPage = false): void {
    if (time === undefined) return;
    const key = this.deps.fold(conversation);
    const earliest = this.oldest.get(key);
    // The first message of an older page is the earliest now, even when it shares its millisecond with the one before.
    if (earliest === undefined || time < earliest || (startsOlderPage && time <= earliest)) {
      this.oldest.delete(key);
      this.oldest.set(key, time);
      if (msgid === undefined) this.oldestIds.delete(key);
      else this.oldestIds.set(key, msgid);
      if (this.oldest.size > MAX_MARKS) {
        const first = this.oldest.keys().next().value!;
        this.oldest.delete(first);
        this.oldestIds.delete(first);
      }
      this.scheduleSave();
    }
    const mark = this.marks.get(key);
    if (mark !== undefined && mark >= time) return;
    this.marks.delete(key);
    this.marks.set(key, time);
    if (this.marks.size > MAX_MARKS) this.marks.delete(this.marks.keys().next().value!);
    if (this.last === undefined || time > this.last) this.last = time;
    this.scheduleSave();
  }

  /** Registered: fetch the private conversations that had messages since we last saw any. */
  signedOn(now: number): void {
    if (!this.deps.available()) return;
    if (this.last === undefined) {
      // A first sign-in: nothing to catch up with; from now on there is.
      this.last = now;
      this.scheduleSave();
      return;
    }
    this.deps.write(`CHATHISTORY TARGETS timestamp=${iso(this.last)} timestamp=${iso(now + 86_400_000)} ${this.pageSize()}`);
  }

  /** We joined `channel` (at server time `time`, when the JOIN carried one): fetch it since its mark. */
  joined(channel: string, time: number | undefined): void {
    if (!this.deps.available()) return;
    const mark = this.marks.get(this.deps.fold(channel));
    if (mark === undefined) {
      this.seen(channel, time ?? Date.now());
      return;
    }
    this.fetch(channel, mark, 0);
  }

  /** A BATCH opened: a chathistory one starts a playback. */
  batchStarted(batch: Batch): void {
    if (batch.type !== 'chathistory') return;
    const target = batch.params[0];
    if (typeof target !== 'string' || target === '') return;
    const key = this.deps.fold(target);
    this.playbacks.set(batch.id, { target, count: 0, delivered: 0, requested: this.fetching.has(key) || this.paging.has(key), page: this.paging.has(key), collect: this.paging.get(key)?.collect });
  }

  /**
   * A line inside a chathistory or chathistory-targets batch. Returns true
   * when it belonged to one (it is then fully handled here).
   */
  line(batch: Batch | undefined, command: string, line: ParsedLine): boolean {
    for (let b = batch; b !== undefined; b = b.parent) {
      if (b.type === 'chathistory') {
        const playback = this.playbacks.get(b.id);
        if (playback !== undefined) this.playbackLine(playback, command, line);
        return true;
      }
      if (b.type === 'draft/chathistory-targets' || b.type === 'chathistory-targets') {
        if (command === 'CHATHISTORY') this.targetLine(line.params);
        return true;
      }
    }
    return false;
  }

  /** A BATCH closed: a full page asks for the next one. */
  batchEnded(batch: Batch): void {
    const playback = this.playbacks.get(batch.id);
    if (playback === undefined) return;
    this.playbacks.delete(batch.id);
    const key = this.deps.fold(playback.target);
    const page = this.paging.get(key);
    if (page !== undefined && playback.requested) {
      this.paging.delete(key);
      clearTimeout(page.timer);
      page.resolve(playback.delivered, playback.count);
      return;
    }
    const fetch = this.fetching.get(key);
    if (fetch === undefined || !playback.requested) return;
    this.fetching.delete(key);
    clearTimeout(fetch.timer);
    const mark = this.marks.get(key);
    if (playback.count >= this.pageSize() && fetch.pages + 1 < MAX_PAGES && mark !== undefined) this.fetch(fetch.target, mark, fetch.pages + 1);
  }

  /**
   * `FAIL CHATHISTORY <code> <subcommand> [context...] :text`
   * (https://ircv3.net/specs/extensions/standard-replies): the request is
   * over. Which one: the target when the context names one we asked about,
   * else the only request outstanding. It is said in that conversation, not
   * only logged; its mark does not move, so the next sign-in or join asks again.
   */
  failed(params: readonly string[]): void {
    const text = String(params[params.length - 1] ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 300);
    this.deps.ctx.log.warn('The server could not play back chat history', { code: params[1], text });
    const context = params.slice(3, -1).map((p) => this.deps.fold(p));
    const outstanding = [...this.fetching.keys(), ...this.paging.keys()];
    const key = context.find((c) => this.fetching.has(c) || this.paging.has(c)) ?? (outstanding.length === 1 ? outstanding[0] : undefined);
    if (key === undefined) return;
    this.requestFailed(key, `The server could not send the history: ${text || String(params[1] ?? 'failed')}`);
  }

  /**
   * Scrolling back: asks the server for up to `count` messages of `target`
   * before the earliest one seen this session (or its latest ones, when none
   * was). Resolves with how many came (each delivered once, flagged
   * delayed); rejects when the server has no history, refuses, or does not answer.
   */
  older(target: string, count: number): Promise<number> {
    const key = this.deps.fold(target);
    const earliest = this.oldest.get(key);
    const earliestId = this.oldestIds.get(key);
    const before = earliestId !== undefined ? `msgid=${earliestId}` : earliest !== undefined ? `timestamp=${iso(earliest)}` : undefined;
    return this.page(target, count, before, undefined).then(({ delivered }) => delivered);
  }

  /**
   * The core's archive request (ProtocolConnection.fetchOlder): the page of
   * `target` before `cursor` (what the previous page returned) or `before`
   * (epoch ms), or its latest page; oldest first, returned rather than
   * delivered. The cursor is the `msgid=` (or `timestamp=`) of the page's
   * oldest message; a page shorter than asked is the last.
   */
  async archive(target: string, query: { before: number | undefined; cursor: string | undefined; limit: number }): Promise<ArchivePage> {
    const cursor = typeof query.cursor === 'string' && CURSOR.test(query.cursor) ? query.cursor : undefined;
    const before = cursor ?? (query.before !== undefined && Number.isFinite(query.before) ? `timestamp=${iso(query.before)}` : undefined);
    const collect: ArchivedMessage[] = [];
    const { items, limit } = await this.page(target, query.limit, before, collect);
    const first = collect[0];
    const next = first === undefined ? undefined : first.protocolId !== undefined ? `msgid=${first.protocolId}` : `timestamp=${iso(first.timestamp)}`;
    const complete = items < limit || next === undefined;
    return complete ? { messages: collect, complete: true } : { messages: collect, cursor: next!, complete: false };
  }

  private page(target: string, count: number, before: string | undefined, collect: ArchivedMessage[] | undefined): Promise<{ delivered: number; items: number; limit: number }> {
    if (!this.deps.available()) return Promise.reject(new IrcError('irc-server-refused', 'This server keeps no chat history (no chathistory capability)'));
    if (!SAFE_TARGET.test(target)) return Promise.reject(new IrcError('irc-invalid-input', 'Not a conversation the server keeps history for'));
    const key = this.deps.fold(target);
    if (this.paging.has(key) || this.fetching.has(key)) return Promise.reject(new IrcError('irc-timeout', `The history of ${target} is still being fetched; try again when it is in`));
    const limit = Math.max(1, Math.min(Math.floor(count), this.pageSize()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.requestFailed(key, 'The server did not answer the history request'), ANSWER_TIMEOUT_MS);
      timer.unref();
      const page: Page = { target, timer, resolve: (delivered, items) => resolve({ delivered, items, limit }), reject };
      if (collect !== undefined) page.collect = collect;
      this.paging.set(key, page);
      this.deps.write(before === undefined ? `CHATHISTORY LATEST ${target} * ${limit}` : `CHATHISTORY BEFORE ${target} ${before} ${limit}`);
    });
  }

  /** The link closed: requests die with it; marks are saved now. */
  closed(): void {
    for (const fetch of this.fetching.values()) clearTimeout(fetch.timer);
    this.fetching.clear();
    for (const page of this.paging.values()) {
      clearTimeout(page.timer);
      page.reject(new IrcError('irc-not-connected', 'The connection closed before the server sent the history'));
    }
    this.paging.clear();
    this.playbacks.clear();
    this.save();
  }

  /** A request ended without its batch: a page rejects; a catch-up is said in its conversation. */
  private requestFailed(key: string, why: string): void {
    const page = this.paging.get(key);
    if (page !== undefined) {
      this.paging.delete(key);
      clearTimeout(page.timer);
      page.reject(new IrcError('irc-server-refused', why));
      return;
    }
    const fetch = this.fetching.get(key);
    if (fetch === undefined) return;
    this.fetching.delete(key);
    clearTimeout(fetch.timer);
    const where: Target = this.deps.isChannel(fetch.target) ? { kind: 'chat', room: fetch.target } : { kind: 'im', peer: fetch.target };
    this.deps.ctx.notice(`${why}; what was said while you were away is missing here`, where, true);
  }

  private pageSize(): number {
    const limit = this.deps.serverLimit();
    return limit !== undefined && limit > 0 ? Math.min(limit, PAGE) : PAGE;
  }

  private fetch(target: string, after: number, pages: number): void {
    // A name from the server goes back into a command line: one word, nothing that could end or split it.
    if (!SAFE_TARGET.test(target)) return;
    const key = this.deps.fold(target);
    if (this.fetching.has(key) || this.paging.has(key)) return;
    const timer = setTimeout(() => this.requestFailed(key, 'The server did not answer the history request'), ANSWER_TIMEOUT_MS);
    timer.unref();
    this.fetching.set(key, { target, pages, timer });
    this.deps.write(`CHATHISTORY AFTER ${target} timestamp=${iso(after)} ${this.pageSize()}`);
  }

  private targetLine(params: readonly string[]): void {
    // CHATHISTORY TARGETS <target> <timestamp>
    const [sub, target, when] = params;
    if (sub?.toUpperCase() !== 'TARGETS' || typeof target !== 'string' || !SAFE_TARGET.test(target)) return;
    // Channels are fetched when they are joined.
    if (this.deps.isChannel(target)) return;
    const time = typeof when === 'string' && ISO.test(when) ? Date.parse(when) : undefined;
    const from = this.marks.get(this.deps.fold(target)) ?? this.last;
    if (from === undefined || (time !== undefined && time <= from)) return;
    this.fetch(target, from, 0);
  }

  private playbackLine(playback: Playback, command: string, line: ParsedLine): void {
    if (playback.count >= MAX_BATCH_MESSAGES) return;
    // Every item counts towards the server's page size (with draft/event-playback joins and parts are
    // items too); only messages are delivered.
    playback.count++;
    if (command !== 'PRIVMSG' && command !== 'NOTICE') return;
    const params = line.params;
    const text = params[params.length - 1];
    const to = params[0];
    if (params.length < 2 || typeof text !== 'string' || typeof to !== 'string' || !line.nick) return;
    let body = text;
    const flags: { delayed: true; action?: true; notice?: true } = { delayed: true };
    if (text.startsWith(CTCP_DELIM)) {
      const inner = text.slice(1, text.endsWith(CTCP_DELIM) ? -1 : undefined);
      if (command !== 'PRIVMSG' || !/^ACTION(?: |$)/i.test(inner)) return;
      body = inner.slice(7);
      flags.action = true;
    } else if (command === 'NOTICE') {
      flags.notice = true;
    }
    const fromSelf = this.deps.sameName(line.nick, this.deps.ownNick());
    const time = serverTime(line.tags.time);
    const msgid = messageId(line.tags);
    // The batch names the conversation: the channel, or the other side of a private one.
    const conversation = this.deps.isChannel(playback.target) ? { kind: 'chat' as const, room: playback.target } : { kind: 'im' as const, peer: playback.target };
    const message: IncomingMessage = { conversation, sender: line.nick, text: body, flags };
    if (fromSelf) message.fromSelf = true;
    if (time !== undefined) message.timestamp = time;
    if (msgid !== undefined) message.protocolId = msgid;
    playback.delivered++;
    if (playback.collect !== undefined) {
      const archived: ArchivedMessage = { direction: fromSelf ? 'outgoing' : 'incoming', sender: line.nick, text: body, timestamp: time ?? Date.now() };
      if (msgid !== undefined) archived.protocolId = msgid;
      playback.collect.push(archived);
      return;
    }
    this.deps.ctx.receiveMessage(message);
    this.seen(playback.target, time, msgid, playback.page && playback.delivered === 1);
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => this.save(), SAVE_EVERY_MS);
    this.saveTimer.unref();
  }

  private save(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const marks: Record<string, string> = {};
    for (const [name, time] of this.marks) marks[name] = iso(time);
    const saved: SavedMarks = { marks };
    if (this.last !== undefined) saved.last = iso(this.last);
    if (this.oldest.size > 0) saved.oldest = Object.fromEntries([...this.oldest].map(([name, time]) => [name, iso(time)]));
    if (this.oldestIds.size > 0) saved.oldestIds = Object.fromEntries(this.oldestIds);
    this.deps.ctx.setState(STATE_KEY, saved);
  }
}

function iso(time: number): string {
  return new Date(time).toISOString();
}
