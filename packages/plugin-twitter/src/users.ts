/** Who is who: ids to handles and back, learned from every response, looked up when unknown. */
import { ENDPOINTS, type XApi } from './api.js';
import { XApiError } from './errors.js';
import { normalizeHandle } from './ids.js';
import { readSingle, readUser, type XUser } from './payload.js';

export class Directory {
  private readonly byIdMap = new Map<string, XUser>();
  private readonly byNameMap = new Map<string, XUser>();

  constructor(private readonly api: XApi) {}

  add(user: XUser): void {
    this.byIdMap.set(user.id, user);
    this.byNameMap.set(user.username.toLowerCase(), user);
  }

  addAll(users: Iterable<XUser>): void {
    for (const u of users) this.add(u);
  }

  byId(id: string): XUser | undefined {
    return this.byIdMap.get(id);
  }

  byName(name: string): XUser | undefined {
    return this.byNameMap.get(name.toLowerCase());
  }

  /** GET /2/users/by/username/:username when the handle is not known yet. */
  async resolve(handle: string): Promise<XUser> {
    const name = normalizeHandle(handle);
    if (name === undefined) throw new XApiError('rejected', ENDPOINTS.userByName, `"${handle}" is not an X username`);
    const known = this.byName(name);
    if (known !== undefined) return known;
    const { data } = await this.api.get(ENDPOINTS.userByName, 'users/by/username/:username', {}, { username: name });
    const { item, errors } = readSingle(data, readUser);
    if (item === undefined) throw new XApiError('rejected', ENDPOINTS.userByName, errors[0] ?? `No X user @${name}`);
    this.add(item);
    return item;
  }
}
