/** One account's connection: signs in with GET /2/users/me, then polls its feeds. */
import {
  certificateError,
  ConnectionError,
  MessageError,
  type ConnectionContext,
  type OutgoingMessage,
  type ProtocolConnection,
  type Target,
} from '@parley/core';
import { ENDPOINTS, XApi } from './api.js';
import { loadCredentials, Session } from './auth.js';
import { ClientFactory } from './client.js';
import { DirectMessages } from './dms.js';
import { classify, XApiError } from './errors.js';
import { fetchFollowing, toRoster } from './following.js';
import { normalizeHandle } from './ids.js';
import { MENTIONS_ROOM, mentionsFeed } from './mentions.js';
import { readSettings, type TwitterSettings } from './options.js';
import { readSingle, readUser, type XUser } from './payload.js';
import { Poller, type PollTask } from './poller.js';
import { Posting } from './posting.js';
import { TIMELINE_ROOM, timelineFeed } from './timeline.js';
import type { FeedDeps, TweetFeed } from './tweet-feed.js';
import { Directory } from './users.js';


const ROOMS = {
  [TIMELINE_ROOM]: { title: 'Timeline', topic: (me: string) => `Home timeline of @${me}: posting here publishes a post` },
  [MENTIONS_ROOM]: { title: 'Mentions', topic: (me: string) => `Posts that mention @${me}` },
} as const;

type Room = keyof typeof ROOMS;

function isRoom(room: string): room is Room {
  return room === TIMELINE_ROOM || room === MENTIONS_ROOM;
}

export interface Online {
  me: XUser;
  api: XApi;
  posting: Posting;
  dms: DirectMessages;
  directory: Directory;
  poller: Poller;
  feeds: Record<Room, TweetFeed>;
}

export class TwitterConnection implements ProtocolConnection {
  private readonly settings: TwitterSettings;
  private factory: ClientFactory | undefined;
  private online: Online | undefined;
  private closed = false;

  constructor(private readonly ctx: ConnectionContext) {
    this.settings = readSettings(ctx.settings);
  }

  /** For commands: the signed-in parts, or a clear error when offline. */
  get parts(): Online {
    if (this.online === undefined) throw new MessageError('no-route', 'The X account is not connected');
    return this.online;
  }

  async connect(): Promise<void> {
    const { ctx, settings } = this;
    ctx.progress('Reading credentials', 1, 3);
    const credentials = await loadCredentials(settings, ctx);
    ctx.progress('Signing in', 2, 3);
    // A certificate the normal check refuses is put to the user by the core's agent, during the handshake.
    const api = this.newApi(credentials);
    const me = await this.signIn(api);
    const wanted = normalizeHandle(ctx.account.username);
    if (wanted !== undefined && wanted.toLowerCase() !== me.username.toLowerCase()) {
      throw ConnectionError.invalidUsername(`The access token belongs to @${me.username}, not @${wanted}`, { hint: `Change the username to ${me.username} or use @${wanted}'s tokens` });
    }
    if (this.closed) return;
    ctx.accountInfo(profileInfo(me));
    ctx.progress('Reading the timeline', 3, 3);
    this.online = this.start(api, me);
    ctx.signal.addEventListener('abort', () => this.stop(), { once: true });
  }

  private newApi(credentials: Awaited<ReturnType<typeof loadCredentials>>): XApi {
    const { ctx, settings } = this;
    try {
      this.factory = new ClientFactory({ apiBaseUrl: settings.apiBaseUrl, agent: ctx.net.httpsAgent() });
    } catch (err) {
      throw ConnectionError.invalidSettings(`The API base URL is not usable: ${(err as Error).message}`, { hint: 'Use an https:// URL', cause: err });
    }
    return new XApi(new Session(credentials, this.factory, ctx));
  }

  private async signIn(api: XApi): Promise<XUser> {
    try {
      const { data } = await api.get(ENDPOINTS.me, 'users/me', { 'user.fields': 'created_at,description,location,url,public_metrics' });
      const { item, errors } = readSingle(data, readUser);
      if (item === undefined) throw new XApiError('malformed', ENDPOINTS.me, errors[0] ?? 'The server did not return the profile');
      return item;
    } catch (err) {
      // The core's network layer already said what failed (proxy, certificate the user refused).
      const cause = networkLayerError(err);
      if (cause !== undefined) throw cause;
      throw this.connectError(classify(err, ENDPOINTS.me));
    }
  }

  private connectError(f: XApiError): ConnectionError {
    const host = new URL(this.settings.apiBaseUrl).host;
    const detail = { serverText: f.details.serverText, protocolDetail: f.details.status ?? f.details.errorCode, cause: f };
    switch (f.kind) {
      case 'unauthorized':
        return ConnectionError.authenticationFailed('The X API did not accept the access token', { ...detail, hint: 'Authorize the app again and enter the new tokens' });
      case 'forbidden':
        return ConnectionError.clientRejected(f.details.serverText ?? 'Forbidden', { protocolDetail: f.details.status, hint: 'Check the app’s access level and permissions in the X developer portal', cause: f });
      case 'certificate':
        return certificateError(f.details.errorCode ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', host);
      case 'network':
        return ConnectionError.network(`Could not reach the X API at ${host}: ${f.message}`, detail);
      default:
        return ConnectionError.other(f.message, detail);
    }
  }

  private start(api: XApi, me: XUser): Online {
    const { ctx, settings } = this;
    const directory = new Directory(api);
    directory.add(meCopy(me));
    const posting = new Posting(api, () => me);
    const poller = new Poller(
      {
        fatal: (error) => {
          this.stop();
          ctx.connectionLost(error);
        },
        log: ctx.log,
        host: new URL(settings.apiBaseUrl).host,
      },
      api.rateLimits,
    );
    const feedDeps: FeedDeps = {
      api,
      state: ctx,
      me: () => me,
      ownPosts: posting.own,
      learnUsers: (users) => directory.addAll(users),
      receive: (message) => ctx.receiveMessage(message),
      skipped: (count, room) => ctx.chats.system(room, `${count} item(s) from the server could not be read and were skipped.`, true),
    };
    const feeds: Record<Room, TweetFeed> = {
      [TIMELINE_ROOM]: timelineFeed(feedDeps, settings.initialBacklog),
      [MENTIONS_ROOM]: mentionsFeed(feedDeps, settings.initialBacklog),
    };
    const dms = new DirectMessages({
      api,
      state: ctx,
      me: () => me,
      directory,
      receive: (message) => ctx.receiveMessage(message),
      skipped: (count) => ctx.notice(`${count} direct message event(s) could not be read and were skipped.`, undefined, true),
      backlog: settings.initialBacklog,
    });
    const online: Online = { me, api, posting, dms, directory, poller, feeds };
    this.online = online;
    for (const room of [TIMELINE_ROOM, MENTIONS_ROOM] as const) this.openRoom(room);
    poller.add({ name: 'dms', endpoint: ENDPOINTS.dmEvents, intervalMs: settings.dmPollMs, run: () => dms.poll(), say: (text, error) => ctx.notice(text, undefined, error) });
    let followingLoaded = false;
    poller.add({
      name: 'following',
      endpoint: ENDPOINTS.following,
      intervalMs: settings.followingPollMs,
      run: async () => {
        const { users, skipped } = await fetchFollowing(api, me);
        directory.addAll(users);
        ctx.buddies.sync(toRoster(users));
        // The first list of this connection is the server's applied; later polls only refresh it.
        if (!followingLoaded) ctx.buddies.synced();
        followingLoaded = true;
        if (skipped > 0) ctx.notice(`${skipped} followed account(s) could not be read and were skipped.`, undefined, true);
      },
      say: (text, error) => ctx.notice(text, undefined, error),
    });
    return online;
  }

  private openRoom(room: Room): void {
    const online = this.parts;
    const info = ROOMS[room];
    this.ctx.chats.joined(room, { title: info.title, topic: info.topic(online.me.username), nick: online.me.username });
    const feed = online.feeds[room];
    const task: PollTask = {
      name: room,
      endpoint: room === TIMELINE_ROOM ? ENDPOINTS.home : ENDPOINTS.mentions,
      intervalMs: room === TIMELINE_ROOM ? this.settings.timelinePollMs : this.settings.mentionsPollMs,
      run: () => feed.poll(),
      say: (text, error) => this.ctx.chats.system(room, text, error),
    };
    online.poller.add(task);
  }

  async sendMessage(target: Target, message: OutgoingMessage): Promise<{ protocolId?: string }> {
    const online = this.parts;
    try {
      if (target.kind === 'chat') {
        if (!isRoom(target.room)) throw new MessageError('no-route', `There is no X conversation "${target.room}"`);
        return { protocolId: await online.posting.publish(message.text) };
      }
      return { protocolId: await online.dms.send(target.peer, message.text) };
    } catch (err) {
      if (err instanceof MessageError) throw err;
      const f = classify(err, target.kind === 'chat' ? ENDPOINTS.post : ENDPOINTS.sendDm);
      throw new MessageError('send-failed', sendFailure(f), { cause: f });
    }
  }

  async joinChat(room: string): Promise<void> {
    if (!isRoom(room)) throw new MessageError('not-supported', `X has no chat "${room}"; the conversations are "${TIMELINE_ROOM}" and "${MENTIONS_ROOM}"`);
    if (!this.parts.poller.has(room)) this.openRoom(room);
  }

  async leaveChat(room: string): Promise<void> {
    if (!isRoom(room) || this.online === undefined) return;
    this.online.poller.remove(room);
    this.ctx.chats.left(room);
  }

  async getBuddyInfo(name: string): Promise<Record<string, string>> {
    const user = await this.parts.directory.resolve(name);
    return profileInfo(user);
  }

  private stop(): void {
    this.closed = true;
    this.online?.poller.stop();
    this.factory?.destroy();
  }

  async disconnect(): Promise<void> {
    this.stop();
  }
}

function meCopy(me: XUser): XUser {
  return { ...me };
}

export function sendFailure(f: XApiError): string {
  const server = f.details.serverText;
  switch (f.kind) {
    case 'forbidden':
      return `The X API refused it${server ? `: ${server}` : ''}`;
    case 'rate-limited':
      return `Rate limit reached for ${f.endpoint}; try again after ${f.details.resetAt ? new Date(f.details.resetAt).toTimeString().slice(0, 8) : 'a while'}`;
    default:
      return server ?? f.message;
  }
}

export function profileInfo(u: XUser): Record<string, string> {
  const info: Record<string, string> = { 'User ID': u.id, Username: `@${u.username}`, Name: u.name, Profile: `https://x.com/${u.username}` };
  if (u.description) info.Description = u.description;
  if (u.location) info.Location = u.location;
  if (u.url) info.Website = u.url;
  if (u.createdAt) info.Joined = u.createdAt;
  if (u.followers !== undefined) info.Followers = String(u.followers);
  if (u.following !== undefined) info.Following = String(u.following);
  if (u.posts !== undefined) info.Posts = String(u.posts);
  return info;
}

/** The ConnectionError the core's agent failed a request with, wherever the HTTP client and our classification wrapped it. */
function networkLayerError(err: unknown): ConnectionError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if (ConnectionError.is(current)) return current;
    const e = current as { _options?: { error?: unknown }; cause?: unknown };
    current = e._options?.error ?? e.cause;
  }
  return undefined;
}
