/** `/reply <id> text`, `/like <id>`, `/repost <id>`: the id is a post id or a post link. */
import { CommandError, withCommandHandlers, type ProtocolCommand, type ProtocolConnection } from '@parley/core';
import { descriptor } from './descriptor.js';
import { TwitterConnection } from './connection.js';
import { classify } from './errors.js';
import { ENDPOINTS, type EndpointName } from './api.js';
import { parsePostRef } from './ids.js';
import { postUrl } from './render.js';
import { sendFailure } from './connection.js';

function connectionOf(connection: ProtocolConnection): TwitterConnection {
  if (!(connection instanceof TwitterConnection)) throw new CommandError('command-not-applicable', 'This command works in X conversations only');
  return connection;
}

function postId(arg: string | undefined, usage: string): string {
  const id = arg === undefined ? undefined : parsePostRef(arg);
  if (id === undefined) throw new CommandError('command-usage', `Usage: ${usage} (a post id or a link to the post)`);
  return id;
}

async function run<T>(endpoint: EndpointName, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError('command-failed', sendFailure(classify(err, endpoint)), { cause: err });
  }
}

/** The code of the commands the descriptor declares. */
export const commands: ProtocolCommand[] = withCommandHandlers(descriptor.commands, {
  async reply(args, { connection }) {
    const [ref, ...rest] = args.trim().split(/\s+/);
    const id = postId(ref, '/reply <post id or link> <text>');
    const text = args.trim().slice(ref!.length).trim();
    if (rest.length === 0 || text === '') throw new CommandError('command-usage', 'Usage: /reply <post id or link> <text>');
    const parts = connectionOf(connection).parts;
    // Not marked as already shown: the reply then appears in the Timeline under the user's name.
    const replyId = await run(ENDPOINTS.post, () => parts.posting.publish(text, { replyTo: id, echo: false }));
    parts.poller.poke('timeline');
    return `Replied: ${postUrl(parts.me.username, replyId)}`;
  },
  async like(args, { connection }) {
    const id = postId(args.trim().split(/\s+/)[0], '/like <post id or link>');
    const parts = connectionOf(connection).parts;
    await run(ENDPOINTS.like, () => parts.posting.like(id));
    return `Liked post ${id}`;
  },
  async repost(args, { connection }) {
    const id = postId(args.trim().split(/\s+/)[0], '/repost <post id or link>');
    const parts = connectionOf(connection).parts;
    await run(ENDPOINTS.repost, () => parts.posting.repost(id));
    parts.poller.poke('timeline');
    return `Reposted post ${id}`;
  },
});
