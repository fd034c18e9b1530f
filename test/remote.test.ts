import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, MAX_MESSAGE_BYTES, RemoteError, UiRelay, connectToParley, elect, runFiles, resolvePaths, type OwnerClaim, type RemoteParley } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer, type LoopbackServerApi } from './helpers/loopback.js';
import { RawRpc } from './helpers/rpc-frames.js';
import { tempHome } from './helpers/temp.js';
import { DEFAULT_WAIT_MS, until, waitFor } from './helpers/wait.js';
import { LoopbackPeer } from '../packages/ui-cli/test/helpers.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const PASSWORD = 'alice-very-secret-pw';

async function ownedHome(home = tempHome('parley-rpc-')) {
  const server = await startServer({ alice: PASSWORD, bob: 'bob-pw' });
  cleanup.push(() => server.stop());
  const election = await elect({ home });
  if (election.role !== 'owner') throw new Error('expected to own a fresh home');
  const claim = election.claim;
  const relay = new UiRelay(undefined);
  const { parley } = await loopbackParley({ home, ui: relay });
  cleanup.push(() => parley.shutdown());
  cleanup.push(() => claim.release());
  const stopRequested: string[] = [];
  await claim.serve(parley, { kind: 'test', relay, onStopRequested: () => stopRequested.push('stop') });
  const alice = await addLoopbackAccount(parley, server.port, 'alice', PASSWORD);
  return { home, server, claim, parley, alice, relay, stopRequested };
}

async function client(home: string, options: Parameters<typeof connectToParley>[0] = {}): Promise<RemoteParley> {
  const remote = await connectToParley({ home, ...options });
  cleanup.push(() => remote.close());
  return remote;
}

describe('the owner of a home and its clients over JSON-RPC', () => {
  it('runs the in-process API for a client: accounts, sign-in, sending, events, history', async () => {
    const { home, server, parley, alice } = await ownedHome();
    const remote = await client(home);
    expect(remote.owner.pid).toBe(process.pid);
    expect(remote.owner.protocolVersion).toBe('1.7');
    expect((await remote.accounts.list()).map((a) => a.id)).toEqual([alice.id]);

    const bob = new LoopbackPeer(server.port, 'bob', 'bob-pw');
    await bob.login();
    cleanup.push(() => bob.close());
    const states: string[] = [];
    remote.events.on('accountStatusChanged', (_account, status) => states.push(status.state));
    await remote.accounts.connect('loopback:alice');
    expect((await remote.accounts.status(alice.id)).state).toBe('online');
    expect(parley.accounts.status(alice.id).state).toBe('online');
    await until(() => states.includes('online'), 10_000, 'the online event');

    const sent = await remote.conversations.sendIm(alice.id, 'bob', 'through the socket');
    expect(sent?.delivery).toBe('sent');
    await waitFor(() => bob.received.find((m) => m.op === 'msg' && m.text === 'through the socket'), 'bob to get the message');

    const received = new Promise<string>((resolve) => remote.events.on('messageReceived', (m) => resolve(m.text)));
    // Let the subscription reach the owner before bob speaks: a second request is answered after it.
    await remote.accounts.list();
    bob.say('alice', 'and back');
    expect(await received).toBe('and back');

    const conversation = (await remote.conversations.find(alice.id, 'im', 'bob'))!;
    expect(conversation.participants).toBeInstanceOf(Map);
    expect(conversation.messages.map((m) => m.text)).toEqual(['through the socket', 'and back']);
    await remote.flushHistory();
    expect((await remote.searchHistory({ words: 'socket' })).map((e) => e.text)).toEqual(['through the socket']);
    const status = await remote.status();
    expect(status.accounts).toEqual([expect.objectContaining({ id: alice.id, state: 'online' })]);
    expect(status.clients).toBe(1);
  });

  it('gives a UI in another process the same state a UI beside the core reads: accounts, buddies, conversations, unread counts, commands', async () => {
    const { home, server, parley, alice } = await ownedHome();
    const remote = await client(home);
    await parley.accounts.connect(alice.id);
    await parley.buddies.add(alice.id, 'bob', { group: 'Friends', alias: 'Bob' });
    const bob = new LoopbackPeer(server.port, 'bob', 'bob-pw');
    await bob.login();
    cleanup.push(() => bob.close());
    const arrived = new Promise<void>((resolve) => parley.events.on('messageReceived', () => resolve()));
    bob.say('alice', 'unread over there');
    await arrived;

    const snapshot = await remote.snapshot();
    expect(snapshot.accounts).toEqual([{ account: expect.objectContaining({ id: alice.id }), status: expect.objectContaining({ state: 'online' }) }]);
    expect(snapshot.contacts).toEqual([expect.objectContaining({ displayName: 'Bob', group: 'Friends' })]);
    expect(snapshot.groups).toContain('Friends');
    const [conversation] = snapshot.conversations;
    expect(conversation).toMatchObject({ accountId: alice.id, name: 'bob', unread: 1 });
    expect(conversation!.participants).toBeInstanceOf(Map);
    expect(conversation!.messages.map((m) => m.text)).toEqual(['unread over there']);
    expect(snapshot.protocols.map((p) => p.id)).toEqual(['loopback']);
    expect(snapshot.commands.map((c) => c.name)).toEqual(expect.arrayContaining(['help', 'me', 'join']));
    expect(snapshot.presence).toEqual(parley.presence.get());

    // What one client reads, any other reads the same: the count lives in the core.
    await remote.conversations.markRead(conversation!.id);
    expect(parley.conversations.get(conversation!.id)?.unread).toBe(0);
    expect((await (await client(home)).snapshot()).conversations[0]?.unread).toBe(0);
  });

  it('rebuilds the owner\'s typed errors by code on the client', async () => {
    const { home, server, parley } = await ownedHome();
    const remote = await client(home);
    await expect(remote.accounts.get('loopback:nobody')).rejects.toMatchObject({ code: 'unknown-account' });
    const wrong = await parley.accounts.add({ protocol: 'loopback', username: 'bob', settings: { port: server.port }, secrets: { password: 'not-bobs' } });
    const failure = await remote.accounts.connect(wrong.id).then(() => undefined, (error: unknown) => error);
    expect(ConnectionError.is(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'connection-authentication-failed', reason: 'authentication-failed', fatal: true });
    const status = await remote.accounts.status(wrong.id);
    expect(ConnectionError.is(status.error)).toBe(true);
    expect(status.error?.reason).toBe('authentication-failed');
  });

  it('forwards the core\'s questions to a client attached as UI, and declines without one', async () => {
    const { home, relay } = await ownedHome();
    expect(await relay.request({ kind: 'confirm', title: 'Trust?' }, { purpose: 'certificate-trust' })).toBe(false);
    const asked: string[] = [];
    let answer: unknown = true;
    const notes: string[] = [];
    await client(home, {
      ui: {
        request: async (request, context) => {
          asked.push(`${context.purpose}: ${request.title}`);
          return answer as never;
        },
        notify: (_level, title) => notes.push(title),
      },
    });
    expect(await relay.request({ kind: 'confirm', title: 'bob wants to add you' }, { purpose: 'authorization' })).toBe(true);
    answer = 'yes please'; // not an answer to a yes/no question: declined
    expect(await relay.request({ kind: 'confirm', title: 'Trust?' }, { purpose: 'certificate-trust' })).toBe(false);
    expect(asked).toEqual(['authorization: bob wants to add you', 'certificate-trust: Trust?']);
    relay.notify('warning', 'Plugin x was disabled');
    await until(() => notes.includes('Plugin x was disabled'), DEFAULT_WAIT_MS, 'the notification');
  });

  it('elects one owner per home: a second process attaches; after the owner stops the next one owns', async () => {
    const { home, claim } = await ownedHome();
    const second = await elect({ home });
    expect(second.role).toBe('client');
    if (second.role === 'client') await second.client.close();
    await claim.release();
    const third = await elect({ home });
    expect(third.role).toBe('owner');
    if (third.role === 'owner') await third.claim.release();
  });

  it('waits for a process that holds the home without serving it, and owns it once it lets go', async () => {
    const home = tempHome('parley-rpc-');
    const first = await elect({ home });
    if (first.role !== 'owner') throw new Error('expected the owner');
    let settled = false;
    const second = elect({ home }).then((e) => {
      settled = true;
      return e;
    });
    // The second election cannot finish while the first holds the claim: one that may not wait
    // tries once and is refused, so the waiting one is still waiting.
    await expect(elect({ home, waitMs: 0 })).rejects.toMatchObject({ code: 'owner-exists' });
    expect(settled).toBe(false);
    await first.claim.release();
    const result = await second;
    expect(result.role).toBe('owner');
    if (result.role === 'owner') await result.claim.release();
  });

  it('replaces the socket of an owner killed with SIGKILL, and never lets two processes own one home', async () => {
    const home = tempHome('parley-rpc-');
    const core = fileURLToPath(new URL('../packages/core/dist/index.js', import.meta.url));
    const script = join(home, 'owner.mjs');
    writeFileSync(
      script,
      `import { createParley, elect } from ${JSON.stringify(core)};
       const e = await elect({ home: process.argv[2] });
       if (e.role !== 'owner') { console.log('client'); process.exit(0); }
       const parley = await createParley({ home: process.argv[2], discover: false, secretStore: 'file', passphrase: 'x' });
       await e.claim.serve(parley, { kind: 'child' });
       console.log('serving');
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    cleanup.push(() => void child.kill('SIGKILL'));
    await waitFor(() => out.includes('serving'), 'the child to own the home', 30_000);

    // A second process cannot own it while the first lives.
    const attached = await client(home);
    expect(attached.owner.pid).toBe(child.pid);
    const gone = attached.disconnected;
    child.kill('SIGKILL');
    expect(await gone).toEqual({ byClient: false, ownerStopping: false });
    await expect(attached.accounts.list()).rejects.toMatchObject({ code: 'core-stopped' });

    const files = runFiles(resolvePaths({}, home));
    expect(existsSync(files.socket)).toBe(true); // left behind by the killed owner
    const next = await elect({ home });
    expect(next.role).toBe('owner');
    if (next.role !== 'owner') return;
    cleanup.push(() => next.claim.release());
  });

  it('lets a script in another process attach with no JSON-RPC library and no database loaded', async () => {
    const { home, alice } = await ownedHome();
    const remote = fileURLToPath(new URL('../packages/core/dist/remote/index.js', import.meta.url));
    const script = join(home, 'script.mjs');
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
       const { elect } = await import(${JSON.stringify(remote)});
       const e = await elect({ home: process.argv[2] });
       if (e.role !== 'client') throw new Error('expected to attach');
       const accounts = await e.client.accounts.list();
       await e.client.close();
       console.log(JSON.stringify({ accounts: accounts.map((a) => a.id), loaded: Object.keys(createRequire(import.meta.url).cache) }));`,
    );
    const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(0);
    const { accounts, loaded } = JSON.parse(out) as { accounts: string[]; loaded: string[] };
    expect(accounts).toEqual([alice.id]);
    // What such a script pays for at start: a JSON-RPC library or SQLite would be most of it.
    expect(loaded.filter((path) => /vscode-jsonrpc|better-sqlite3/.test(path))).toEqual([]);
  });

  it('takes a socket that accepts and closes before the handshake (an owner being killed) as no owner, and becomes the owner', async () => {
    const home = tempHome('parley-rpc-');
    const files = runFiles(resolvePaths({}, home));
    // The first election prepares the run directory and shows the home is free.
    const first = await elect({ home });
    if (first.role !== 'owner') throw new Error('expected to own a fresh home');
    await first.claim.release();
    const dying = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => dying.listen(files.socket, resolve));
    cleanup.push(() => new Promise<void>((resolve) => dying.close(() => resolve())));
    await expect(connectToParley({ home })).rejects.toMatchObject({ code: 'owner-not-running' });
    const next = await elect({ home });
    expect(next.role).toBe('owner');
    if (next.role === 'owner') cleanup.push(() => next.claim.release());
  });

  it('keeps the socket 0600 in a 0700 directory inside the home, and another user cannot connect', async () => {
    const { home } = await ownedHome();
    const files = runFiles(resolvePaths({}, home));
    expect(files.socket.startsWith(home)).toBe(true);
    expect(statSync(files.dir).mode & 0o777).toBe(0o700);
    expect(statSync(files.socket).mode & 0o777).toBe(0o600);
    expect(process.getuid?.()).toBe(0); // the test switches to another user below, which needs root
    const probe = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(files.socket)}).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`], {
      uid: 65534,
      gid: 65534,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    probe.stdout.on('data', (d) => (out += d));
    await new Promise((r) => probe.on('close', r));
    expect(out.trim()).toBe('EACCES');
  });

  it('refuses a socket directory that is open to others', async () => {
    const { home } = await ownedHome();
    const files = runFiles(resolvePaths({}, home));
    const { chmodSync } = await import('node:fs');
    chmodSync(files.dir, 0o755);
    await expect(connectToParley({ home })).rejects.toMatchObject({ code: 'socket-insecure' });
    chmodSync(files.dir, 0o700);
  });

  it('answers malformed, invalid and oversized messages with errors and keeps serving', async () => {
    const { home } = await ownedHome();
    const { socket } = runFiles(resolvePaths({}, home));
    const raw = await RawRpc.open(socket);
    cleanup.push(() => raw.close());
    raw.sendBody('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(await raw.next()).toMatchObject({ id: null, error: { code: -32700 } });
    raw.sendBody('[1, 2, 3]');
    expect(await raw.next()).toMatchObject({ id: null, error: { code: -32600 } });
    raw.send({ id: 2, method: 'accounts.list' });
    expect(await raw.answer(2)).toMatchObject({ error: { code: -32001 } }); // no handshake yet
    raw.send({ id: 3, method: 'parley.hello', params: [{ protocolVersion: '1.0' }] });
    expect((await raw.answer(3)).result).toMatchObject({ protocolVersion: '1.7' });
    raw.send({ id: 4, method: 'accounts.secret', params: ['loopback:alice', 'password'] });
    expect(await raw.answer(4)).toMatchObject({ error: { code: -32601 } });
    raw.send({ id: 5, method: 'constructor.constructor', params: [] });
    expect(await raw.answer(5)).toMatchObject({ error: { code: -32601 } });
    raw.send({ id: 6, method: 'accounts.get', params: { ref: 'x' } });
    expect(await raw.answer(6)).toMatchObject({ error: { code: -32602 } });
    raw.send({ id: 7, method: 'accounts.get', params: [{ not: 'a string' }] });
    expect((await raw.answer(7)).error).toBeDefined();

    raw.socket.write(`Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n`);
    raw.socket.write(Buffer.alloc(64 * 1024, 0x20));
    expect(await raw.next()).toMatchObject({ id: null, error: { code: -32002 } });
    await raw.waitClosed();

    const again = await client(home);
    expect(await again.accounts.list()).toHaveLength(1);
  });

  it('refuses a client of another major protocol version', async () => {
    const { home } = await ownedHome();
    const raw = await RawRpc.open(runFiles(resolvePaths({}, home)).socket);
    cleanup.push(() => raw.close());
    raw.send({ id: 1, method: 'parley.hello', params: [{ protocolVersion: '2.0' }] });
    const answer = await raw.answer(1);
    expect(answer.error).toMatchObject({ code: -32001, data: { code: 'protocol-mismatch' } });
    expect(answer.error.message).toContain('1.7');
    await raw.waitClosed();
  });

  it('gives no client a secret: no answer to any method carries the password', async () => {
    const { home, alice } = await ownedHome();
    const remote = await client(home);
    await remote.accounts.connect(alice.id);
    const answers: unknown[] = [];
    const { socket } = runFiles(resolvePaths({}, home));
    const raw = await RawRpc.open(socket);
    cleanup.push(() => raw.close());
    raw.send({ id: 0, method: 'parley.hello', params: [{ protocolVersion: '1.0' }] });
    await raw.answer(0);
    raw.send({ id: 'sub', method: 'parley.subscribe', params: [{}] });
    await raw.answer('sub');
    const { REMOTE_METHODS } = await import('../packages/core/src/remote/protocol.js');
    let id = 1;
    for (const [namespace, methods] of Object.entries(REMOTE_METHODS)) {
      for (const method of methods) {
        for (const params of [[], [alice.id], [alice.id, 'password'], [{ account: alice.id }]]) {
          if (['remove', 'disconnect', 'leave', 'close', 'unsave', 'update'].includes(method)) continue;
          raw.send({ id, method: `${namespace}.${method}`, params });
          answers.push(await raw.answer(id));
          id++;
        }
      }
    }
    raw.send({ id: 'status', method: 'parley.status' });
    answers.push(await raw.answer('status'));
    const everything = JSON.stringify([answers, raw.messages]);
    expect(everything).toContain(alice.id);
    expect(everything).not.toContain(PASSWORD);
  });

  it('tells clients the owner is stopping, and a stop request reaches the owner', async () => {
    const { home, claim, stopRequested } = await ownedHome();
    const remote = await client(home);
    await remote.stopOwner();
    await until(() => stopRequested.length === 1, DEFAULT_WAIT_MS, 'the stop request');
    await claim.release();
    expect(await remote.disconnected).toEqual({ byClient: false, ownerStopping: true });
    await expect(connectToParley({ home })).rejects.toBeInstanceOf(RemoteError);
  });
});

export type { LoopbackServerApi, OwnerClaim };
