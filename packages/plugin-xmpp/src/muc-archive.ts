import type { Element } from '@xmpp/xml';
import { NS_MAM, queryElement, readArchiveResult, readFin, trustedStanzaId, type ArchivedMessage } from './mam.js';
import type { Session } from './session.js';

/** The account's plugin state key: the newest archive id seen in each room, by room JID. */
export const ROOM_ARCHIVE_STATE_KEY = 'muc-mam-last-id';
const MAX_PAGES = 200;
const SEEN_LIMIT = 5_000;
const QUERY_TIMEOUT_MS = 30_000;

/**
 * A room's own archive (XEP-0313 §5 on a MUC service, Prosody's
 * mod_muc_mam): on join, what was said since the last message this account
 * saw there (or the last `days` days), instead of the room's short history;
 * the room's `<stanza-id by=room>` then tells live messages already shown
 * apart. Ids are trusted only from the room itself.
 */
export class RoomArchive {
  private readonly collecting = new Map<string, { room: string; page: ArchivedMessage[] }>();
  private readonly seen = new Map<string, Set<string>>();
  private queries = 0;

  constructor(private readonly session: Session) {}

  /** A `<result>` from a room: part of a query's page, or refused. True when it was an archive result at all. */
  handleResult(stanza: Element): boolean {
    const result = stanza.getChild('result', NS_MAM);
    if (result === undefined) return false;
    const queryId = String(result.attrs.queryid);
    const query = this.collecting.get(queryId);
    const item = query === undefined ? undefined : readArchiveResult(stanza, query.room, queryId);
    if (item === undefined || query === undefined) {
      this.session.log.warn('Refused a room archive result that is not an answer to our query', { from: String(stanza.attrs.from) });
      return true;
    }
    query.page.push(item);
    return true;
  }

  /** A live message of the room: false when the room's id says it was shown already. Moves the room's last seen id forward. */
  live(room: string, stanza: Element): boolean {
    const id = trustedStanzaId(stanza, room);
    if (id === undefined) return true;
    if (!this.see(room, id)) return false;
    this.remember(room, id);
    return true;
  }

  private see(room: string, id: string): boolean {
    let ids = this.seen.get(room);
    if (ids === undefined) this.seen.set(room, (ids = new Set()));
    if (ids.has(id)) return false;
    ids.add(id);
    if (ids.size > SEEN_LIMIT) ids.delete(ids.values().next().value as string);
    return true;
  }

  private lastIds(): Record<string, string> {
    const state = this.session.ctx.getState<Record<string, unknown>>(ROOM_ARCHIVE_STATE_KEY);
    return Object.fromEntries(Object.entries(state ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  }

  private remember(room: string, id: string): void {
    this.session.ctx.setState(ROOM_ARCHIVE_STATE_KEY, { ...this.lastIds(), [room]: id });
  }

  /**
   * Fetches the room's archive since the last id seen there, or of the last
   * `days` days, page by page, handing each new message to `deliver` in
   * order. Errors only cost the catch-up. Returns how many were new.
   */
  async catchUp(room: string, days: number, deliver: (item: ArchivedMessage) => void): Promise<number> {
    const window = { start: new Date(Date.now() - days * 86_400_000) };
    const last = this.lastIds()[room];
    let from: { id: string } | { start: Date } = last === undefined ? window : { id: last };
    let fetched = 0;
    try {
      for (let page = 0; page < MAX_PAGES; page++) {
        const queryId = `muc-mam${++this.queries}`;
        this.collecting.set(queryId, { room, page: [] });
        let fin: Element | undefined;
        try {
          fin = await this.session.iqSet(queryElement(queryId, from), room, QUERY_TIMEOUT_MS);
        } catch (error) {
          if ('id' in from && (error as { condition?: string }).condition === 'item-not-found') {
            from = window;
            continue;
          }
          throw error;
        }
        const items = this.collecting.get(queryId)?.page ?? [];
        this.collecting.delete(queryId);
        for (const item of items) {
          if (!this.see(room, item.id)) continue;
          fetched++;
          try {
            deliver(item);
          } catch (error) {
            this.session.log.warn('Skipped an archived room message that could not be handled', { room, error: error instanceof Error ? error.message : String(error) });
          }
        }
        const newest = items.at(-1)?.id;
        if (newest !== undefined) this.remember(room, newest);
        const { complete, last: marker } = readFin(fin);
        if (complete || items.length === 0) break;
        const next = marker ?? newest;
        if (next === undefined || ('id' in from && from.id === next)) break;
        from = { id: next };
      }
      this.session.log.info('Fetched the room archive', { room, messages: fetched });
    } catch (error) {
      this.session.log.info('Could not fetch the room archive', { room, error: error instanceof Error ? error.message : String(error) });
    } finally {
      for (const [id, query] of this.collecting) if (query.room === room) this.collecting.delete(id);
    }
    return fetched;
  }
}
