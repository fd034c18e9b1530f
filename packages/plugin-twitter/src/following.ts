/**
 * The accounts the user follows, as buddies in the group "Following":
 * GET /2/users/:id/following, every page (max_results up to 1000).
 * https://docs.x.com/x-api/users/follows/introduction
 */
import type { RosterEntry } from '@parley/core';
import { ENDPOINTS, type XApi } from './api.js';
import { readPage, readUser, type XUser } from './payload.js';

export const FOLLOWING_GROUP = 'Following';

export async function fetchFollowing(api: XApi, me: XUser, maxPages = 50): Promise<{ users: XUser[]; skipped: number }> {
  const users = new Map<string, XUser>();
  let skipped = 0;
  let token: string | undefined;
  const seen = new Set<string>();
  for (let page = 0; page < maxPages; page++) {
    const query: Record<string, string | number> = { max_results: 1000, 'user.fields': 'username,name,description' };
    if (token !== undefined) query.pagination_token = token;
    const { data } = await api.get(ENDPOINTS.following, 'users/:id/following', query, { id: me.id });
    const result = readPage(data, readUser);
    skipped += result.skipped;
    for (const u of result.items) users.set(u.id, u);
    token = result.meta.nextToken;
    if (token === undefined || seen.has(token)) break;
    seen.add(token);
  }
  return { users: [...users.values()], skipped };
}

export function toRoster(users: readonly XUser[]): RosterEntry[] {
  return users.map((u) => ({ name: u.username, ...(u.name !== u.username ? { alias: u.name } : {}), groups: [FOLLOWING_GROUP] }));
}
