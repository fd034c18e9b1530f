/**
 * Direct messages as IM conversations. GET /2/dm_events has no since_id:
 * events come newest first, so a poll pages back until it meets the last
 * event it showed (persisted), then shows the new ones oldest first.
 * Sending: POST /2/dm_conversations/with/:participant_id/messages.
 * https://docs.x.com/x-api/direct-messages/lookup/introduction
 */
import type { IncomingMessage } from '@parley/core';
import { ENDPOINTS, type XApi } from './api.js';
import { compareIds } from './ids.js';
import { readObject, readDmEvent, readPage, type XDmEvent, type XUser } from './payload.js';
import type { StateStore } from './tweet-feed.js';
import type { Directory } from './users.js';
import { XApiError } from './errors.js';

const DM_QUERY = {
  'dm_event.fields': 'id,text,event_type,dm_conversation_id,created_at,sender_id,participant_ids',
  event_types: 'MessageCreate',
  expansions: 'sender_id,participant_ids',
  'user.fields': 'username,name',
} as const;

const STATE_KEY = 'lastId.dm';

export interface DmDeps {
  api: XApi;
  state: StateStore;
  me: () => XUser;
  directory: Directory;
  receive(message: IncomingMessage): void;
  skipped(count: number): void;
  backlog: number;
  maxPages?: number;
}

export class DirectMessages {
  /** Events this connection sent; the core already shows them. */
  private readonly sent = new Set<string>();

  constructor(private readonly deps: DmDeps) {}

  async poll(): Promise<void> {
    const { deps } = this;
    const last = deps.state.getState<string>(STATE_KEY);
    const first = typeof last !== 'string';
    const events = new Map<string, XDmEvent>();
    let skipped = 0;
    let token: string | undefined;
    const seenTokens = new Set<string>();
    for (let page = 0; page < (deps.maxPages ?? 32); page++) {
      const query: Record<string, string | number> = { ...DM_QUERY, max_results: first ? Math.max(1, deps.backlog) : 100 };
      if (token !== undefined) query.pagination_token = token;
      const { data } = await deps.api.get(ENDPOINTS.dmEvents, 'dm_events', query);
      const result = readPage(data, readDmEvent);
      skipped += result.skipped;
      deps.directory.addAll(result.users.values());
      let reachedLast = false;
      for (const e of result.items) {
        if (!first && compareIds(e.id, last) <= 0) reachedLast = true;
        else events.set(e.id, e);
      }
      token = result.meta.nextToken;
      if (first || reachedLast || token === undefined || seenTokens.has(token)) break;
      seenTokens.add(token);
    }
    if (skipped > 0) deps.skipped(skipped);
    const ordered = [...events.values()].sort((a, b) => compareIds(a.id, b.id));
    const shown = first ? ordered.slice(Math.max(0, ordered.length - deps.backlog)) : ordered;
    for (const e of shown) this.deliver(e, first);
    const newest = ordered[ordered.length - 1]?.id;
    if (newest !== undefined) deps.state.setState(STATE_KEY, newest);
  }

  private peerOf(e: XDmEvent, meId: string): string | undefined {
    if (e.senderId !== undefined && e.senderId !== meId) return e.senderId;
    const others = e.participantIds.filter((p) => p !== meId);
    if (others.length > 0) return others[0];
    // One-to-one conversation ids are "<lower id>-<higher id>".
    const parts = e.conversationId?.split('-') ?? [];
    return parts.length === 2 ? parts.find((p) => p !== meId) : undefined;
  }

  private deliver(e: XDmEvent, delayed: boolean): void {
    const { deps } = this;
    if (e.type !== 'MessageCreate' || e.text === undefined || this.sent.has(e.id)) return;
    const me = deps.me();
    const peerId = this.peerOf(e, me.id);
    if (peerId === undefined) return;
    const peer = deps.directory.byId(peerId);
    const fromSelf = e.senderId === me.id;
    const message: IncomingMessage = {
      conversation: { kind: 'im', peer: peer?.username ?? peerId },
      sender: fromSelf ? me.username : (peer?.username ?? peerId),
      text: e.text,
      protocolId: e.id,
    };
    if (!fromSelf && peer?.name !== undefined) message.senderAlias = peer.name;
    if (e.createdAt !== undefined) message.timestamp = e.createdAt;
    if (delayed) message.flags = { delayed: true };
    if (fromSelf) message.fromSelf = true;
    deps.receive(message);
  }

  /** Sends to a handle (or a numeric user id); returns the event id. */
  async send(peer: string, text: string): Promise<string> {
    const { deps } = this;
    const id = /^[0-9]{1,19}$/.test(peer) ? peer : (await deps.directory.resolve(peer)).id;
    const { data } = await deps.api.post(ENDPOINTS.sendDm, 'dm_conversations/with/:participant_id/messages', { text }, { participant_id: id });
    const body = readObject(readObject(data)?.data);
    const eventId = body?.dm_event_id;
    if (typeof eventId !== 'string' || !/^[0-9]{1,19}$/.test(eventId)) throw new XApiError('malformed', ENDPOINTS.sendDm, 'The server did not say which message it created');
    this.sent.add(eventId);
    return eventId;
  }
}
