import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isParleyError, type UiRequest } from '@parley/core';
import { addLoopbackAccount, loopbackParley, startServer } from './helpers/loopback.js';
import { RecordingUi } from './helpers/recording-ui.js';
import { filesUnder, tempHome } from './helpers/temp.js';
import { until, waitForEvent } from './helpers/wait.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

const fixture = new URL('./fixtures/parley-plugin-loopback/index.js', import.meta.url).href;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Alice and Bob online on one loopback server; Bob answers file offers with `answer`. */
async function setup(options: { isolation?: 'none' | 'worker'; answer?: (request: UiRequest) => unknown; maxIncomingSize?: number; autoAcceptFromBuddies?: boolean; bobsBuddies?: string[] } = {}) {
  const server = await startServer({ alice: 'alice-pw', bob: 'bob-pw' }, { bob: (options.bobsBuddies ?? []).map((name) => ({ name })) });
  cleanup.push(() => server.stop());
  const downloads = join(tempHome('parley-downloads-'), 'Downloads');
  const worker = options.isolation === 'worker' ? { plugins: [], pluginModules: [fixture], isolation: 'worker' as const } : {};
  const a = await loopbackParley(worker);
  cleanup.push(() => a.parley.shutdown());
  const bobUi = new RecordingUi((request, context) => (context.purpose === 'file-transfer' ? options.answer?.(request) : undefined));
  const b = await loopbackParley({ ...worker, ui: bobUi, transfers: { downloadDir: downloads, ...(options.maxIncomingSize === undefined ? {} : { maxIncomingSize: options.maxIncomingSize }), ...(options.autoAcceptFromBuddies === undefined ? {} : { autoAcceptFromBuddies: options.autoAcceptFromBuddies }) } });
  cleanup.push(() => b.parley.shutdown());
  const alice = await addLoopbackAccount(a.parley, server.port, 'alice', 'alice-pw');
  const bob = await addLoopbackAccount(b.parley, server.port, 'bob', 'bob-pw');
  await a.parley.accounts.connect(alice.id);
  await b.parley.accounts.connect(bob.id);
  return { server, a, b, alice, bob, bobUi, downloads };
}

function fileOf(bytes: Buffer, name = 'report.bin'): string {
  const dir = tempHome('parley-send-');
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('file transfer between two Parley instances (loopback protocol)', () => {
  it.each(['none', 'worker'] as const)('sends a file that arrives whole under its name, with progress and history lines (isolation %s)', async (isolation) => {
    const { a, b, alice, bobUi, downloads } = await setup({ isolation, answer: () => 'accept' });
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const path = fileOf(bytes);
    const states: string[] = [];
    b.parley.events.on('transferChanged', (t) => states.push(t.state));
    const progress: number[] = [];
    b.parley.events.on('transferProgress', (_t, p) => progress.push(p.bytes));
    const added = waitForEvent(b.parley.events, 'transferAdded');
    const sent = await a.parley.transfers.send(alice.id, 'bob', path);
    expect(sent).toMatchObject({ direction: 'outgoing', state: 'waiting', name: 'report.bin', size: bytes.length, peer: 'bob', path });
    const [offer] = await added;
    expect(offer).toMatchObject({ direction: 'incoming', state: 'offered', name: 'report.bin', size: bytes.length, peer: 'alice' });
    const received = await b.parley.transfers.settled(offer.id);
    const outgoing = await a.parley.transfers.settled(sent.id);

    expect(received.state).toBe('done');
    expect(received.path).toBe(join(downloads, 'report.bin'));
    expect(sha256(readFileSync(received.path!))).toBe(sha256(bytes));
    expect(outgoing.state).toBe('done');
    expect(states).toEqual(['waiting', 'transferring', 'done']);
    expect(progress.at(-1)).toBe(bytes.length);
    // Only the final file is left: no temporary file.
    expect(readdirSync(downloads)).toEqual(['report.bin']);
    expect(bobUi.requests.filter((r) => r.context.purpose === 'file-transfer')).toHaveLength(1);

    await b.parley.flushHistory();
    const lines = (await b.parley.searchHistory({ words: 'report' })).map((e) => e.text);
    expect(lines).toEqual(expect.arrayContaining([expect.stringContaining('alice offers report.bin'), expect.stringContaining('Received report.bin')]));
  });

  it('reports a declined offer as cancelled by the peer on the sending side', async () => {
    const { a, b, alice } = await setup({ answer: () => 'decline' });
    const sent = await a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from('not wanted')));
    const outgoing = await a.parley.transfers.settled(sent.id);
    expect(outgoing).toMatchObject({ state: 'cancelled', cancelledBy: 'peer', reason: 'declined' });
    const incoming = b.parley.transfers.list()[0]!;
    expect(incoming).toMatchObject({ state: 'cancelled', cancelledBy: 'user', reason: 'declined' });
  });

  it('leaves an unanswered offer for the API; the sender cancelling it reaches the receiver', async () => {
    const { a, b, alice } = await setup();
    const added = waitForEvent(b.parley.events, 'transferAdded');
    const sent = await a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from('changed my mind')));
    const [offer] = await added;
    expect(b.parley.transfers.get(offer.id)?.state).toBe('offered');
    await a.parley.transfers.cancel(sent.id);
    const incoming = await b.parley.transfers.settled(offer.id);
    expect(incoming).toMatchObject({ state: 'cancelled', cancelledBy: 'peer' });
    expect(a.parley.transfers.get(sent.id)).toMatchObject({ state: 'cancelled', cancelledBy: 'user' });
  });

  it('accepts to a chosen path and never replaces an existing file', async () => {
    const { a, b, alice, downloads } = await setup();
    mkdirSync(downloads, { recursive: true });
    writeFileSync(join(downloads, 'notes.txt'), 'mine, keep me');
    for (const content of ['first copy', 'second copy']) {
      const added = waitForEvent(b.parley.events, 'transferAdded');
      await a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from(content), 'notes.txt'));
      const [offer] = await added;
      await b.parley.transfers.accept(offer.id);
      expect((await b.parley.transfers.settled(offer.id)).state).toBe('done');
    }
    expect(readFileSync(join(downloads, 'notes.txt'), 'utf8')).toBe('mine, keep me');
    expect(readFileSync(join(downloads, 'notes (1).txt'), 'utf8')).toBe('first copy');
    expect(readFileSync(join(downloads, 'notes (2).txt'), 'utf8')).toBe('second copy');

    const elsewhere = join(tempHome('parley-chosen-'), 'kept.txt');
    const added = waitForEvent(b.parley.events, 'transferAdded');
    await a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from('chosen place'), 'notes.txt'));
    const [offer] = await added;
    await b.parley.transfers.accept(offer.id, { path: elsewhere });
    expect((await b.parley.transfers.settled(offer.id)).path).toBe(elsewhere);
    expect(readFileSync(elsewhere, 'utf8')).toBe('chosen place');
  });

  it('accepts without asking from a buddy only when auto-accept is on', async () => {
    const { a, b, alice, bobUi, downloads } = await setup({ autoAcceptFromBuddies: true, bobsBuddies: ['alice'] });
    const added = waitForEvent(b.parley.events, 'transferAdded');
    await a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from('from a friend'), 'friendly.txt'));
    const [offer] = await added;
    expect((await b.parley.transfers.settled(offer.id)).state).toBe('done');
    expect(readFileSync(join(downloads, 'friendly.txt'), 'utf8')).toBe('from a friend');
    expect(bobUi.requests).toEqual([]);

    const off = await setup({ bobsBuddies: ['alice'] });
    const asked = waitForEvent(off.b.parley.events, 'transferAdded');
    await off.a.parley.transfers.send(off.alice.id, 'bob', fileOf(Buffer.from('ask first')));
    const [waiting] = await asked;
    await until(() => off.bobUi.requests.some((r) => r.context.purpose === 'file-transfer'), 10_000, 'the question');
    expect(off.b.parley.transfers.get(waiting.id)?.state).toBe('offered');
    expect(off.b.parley.transfers.settings().autoAcceptFromBuddies).toBe(false);
  });

  it('refuses to send what cannot be sent, with a coded error', async () => {
    const { a, alice } = await setup();
    await expect(a.parley.transfers.send(alice.id, 'bob', '/nonexistent/file.bin')).rejects.toSatisfy((e: unknown) => isParleyError(e, 'transfer-file-unreadable'));
    await expect(a.parley.transfers.send(alice.id, 'bob', tempHome())).rejects.toSatisfy((e: unknown) => isParleyError(e, 'transfer-file-unreadable'));
    await a.parley.accounts.disconnect(alice.id);
    await expect(a.parley.transfers.send(alice.id, 'bob', fileOf(Buffer.from('x')))).rejects.toSatisfy((e: unknown) => isParleyError(e, 'transfer-offline'));
  });
});

/** A hostile peer: offers through the server as "mallory", and serves the bytes it likes from its own port. */
async function hostilePeer(serve: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as { port: number }).port, server };
}

describe('hostile file offers', () => {
  async function offer(fields: Record<string, unknown>, serve: (socket: Socket) => void = (s) => s.end(Buffer.from('payload'))) {
    const env = await setup({ answer: () => 'accept' });
    const peer = await hostilePeer(serve);
    const added = waitForEvent(env.b.parley.events, 'transferAdded');
    env.server.sendRaw('bob', `${JSON.stringify({ op: 'file-offer', from: 'mallory', id: 'evil-1', host: '127.0.0.1', port: peer.port, ...fields })}\n`);
    const [transfer] = await added;
    const settled = await env.b.parley.transfers.settled(transfer.id);
    return { ...env, transfer, settled };
  }

  /** Everything the download folder's parent holds is in the download folder, and no temporary file is left. */
  function onlyInDownloads(downloads: string): string[] {
    const parent = join(downloads, '..');
    const all = filesUnder(parent);
    expect(all.every((f) => f.startsWith(`${downloads}/`))).toBe(true);
    expect(all.filter((f) => f.endsWith('.parley-part'))).toEqual([]);
    return all.map((f) => f.slice(downloads.length + 1));
  }

  it.each([
    ['../../escape.txt', 'escape.txt'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\windows.ini', 'windows.ini'],
    ['in\u0000side.txt', 'inside.txt'],
    ['.bashrc', 'bashrc'],
    ['invoice\u202Etxt.exe', 'invoicetxt.exe'],
  ])('saves an offer named %j as %j in the download folder only', async (name, safe) => {
    const { settled, downloads } = await offer({ name, size: 7 });
    expect(settled).toMatchObject({ state: 'done', name: safe, path: join(downloads, safe) });
    expect(onlyInDownloads(downloads)).toEqual([safe]);
    expect(readFileSync(join(downloads, safe), 'utf8')).toBe('payload');
  });

  it('survives malformed offers: impossible sizes are declined, shapeless ones dropped, and the account stays usable', async () => {
    const env = await setup({ answer: () => 'accept' });
    const lines = [
      { op: 'file-offer' },
      { op: 'file-offer', id: 42, from: 'mallory', name: 'x' },
      { op: 'file-offer', id: 'no-peer', from: null, name: 'x' },
      { op: 'file-offer', id: 'no-name', from: 'mallory' },
      { op: 'file-offer', id: 'negative', from: 'mallory', name: 'neg.bin', size: -1, host: '127.0.0.1', port: 1 },
      { op: 'file-offer', id: 'fraction', from: 'mallory', name: 'half.bin', size: 1.5, host: '127.0.0.1', port: 1 },
      { op: 'file-offer', id: 'text', from: 'mallory', name: 'text.bin', size: '100', host: '127.0.0.1', port: 1 },
      { op: 'file-offer', id: 'huge', from: 'mallory', name: 'n'.repeat(100_000), size: 1, host: '127.0.0.1', port: 1 },
      { op: 'file-cancel', id: 'never-offered', from: 'mallory' },
    ];
    env.server.sendRaw('bob', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const received = waitForEvent(env.b.parley.events, 'messageReceived', (m) => m.text === 'still here');
    await env.a.parley.conversations.sendIm(env.alice.id, 'bob', 'still here');
    await received;
    // Four refused at once; the long name, cut to fit, is a valid offer (accepted, then nobody listens on port 1).
    await until(() => env.b.parley.transfers.list().filter((t) => t.state === 'failed').length === 5, 10_000, 'the bad offers to end');
    const transfers = env.b.parley.transfers.list();
    expect(transfers.filter((t) => t.error?.code === 'transfer-bad-offer').map((t) => t.name)).toEqual(['(no name)', 'neg.bin', 'half.bin', 'text.bin']);
    expect(transfers.find((t) => t.name.startsWith('nnn'))?.name).toBe('n'.repeat(215));
    expect(env.b.parley.accounts.status(env.bob.id).state).toBe('online');
    expect(existsSync(env.downloads) ? filesUnder(env.downloads) : []).toEqual([]);
  });

  it('declines an offer with no usable name', async () => {
    const { settled, server, bobUi } = await offer({ name: '../..', size: 7 });
    expect(settled.state).toBe('failed');
    expect(settled.error?.code).toBe('transfer-bad-offer');
    await until(() => server.received.some((m) => m.op === 'file-decline' && m.id === 'evil-1'), 10_000, 'the decline');
    expect(bobUi.requests).toEqual([]);
  });

  it('declines a 10 TiB offer without asking, and writes nothing', async () => {
    const { settled, server, downloads, bobUi } = await offer({ name: 'huge.iso', size: 10 * 1024 ** 4 });
    expect(settled.state).toBe('failed');
    expect(settled.error?.code).toBe('transfer-too-large');
    expect(settled.error?.message).toMatch(/10 TiB/);
    await until(() => server.received.some((m) => m.op === 'file-decline' && m.id === 'evil-1'), 10_000, 'the decline');
    expect(bobUi.requests).toEqual([]);
    expect(existsSync(downloads) ? filesUnder(downloads) : []).toEqual([]);
  });

  it('stops a peer that sends more than it announced and removes the partial file', async () => {
    const { settled, downloads } = await offer({ name: 'small.txt', size: 1000 }, (socket) => {
      socket.on('error', () => {});
      socket.write(randomBytes(64 * 1024));
      socket.end();
    });
    expect(settled.state).toBe('failed');
    expect(settled.error?.code).toBe('transfer-oversize');
    expect(onlyInDownloads(downloads)).toEqual([]);
  });

  it('fails a transfer the peer stops half way and leaves nothing under the final name', async () => {
    const { settled, downloads } = await offer({ name: 'half.bin', size: 100_000 }, (socket) => {
      socket.write(randomBytes(50_000), () => socket.destroy());
    });
    expect(settled.state).toBe('failed');
    expect(settled.error?.code).toBe('transfer-incomplete');
    expect(onlyInDownloads(downloads)).toEqual([]);
  });

  it('stops an offer of no announced size at the size limit', async () => {
    const env = await setup({ answer: () => 'accept', maxIncomingSize: 1000 });
    const peer = await hostilePeer((socket) => {
      socket.on('error', () => {});
      socket.end(randomBytes(64 * 1024));
    });
    const added = waitForEvent(env.b.parley.events, 'transferAdded');
    env.server.sendRaw('bob', `${JSON.stringify({ op: 'file-offer', from: 'mallory', id: 'evil-2', name: 'unsized.bin', host: '127.0.0.1', port: peer.port })}\n`);
    const [transfer] = await added;
    const settled = await env.b.parley.transfers.settled(transfer.id);
    expect(settled.error?.code).toBe('transfer-oversize');
    expect(onlyInDownloads(env.downloads)).toEqual([]);
  });

  it('cancels a transfer half way from the receiving side: the peer is told and nothing is left', async () => {
    const env = await setup({ answer: () => 'accept' });
    let held: Socket | undefined;
    const peer = await hostilePeer((socket) => {
      socket.on('error', () => {});
      held = socket;
      // Some bytes, then the connection stays open: the transfer is under way when it is cancelled.
      socket.write(randomBytes(10_000));
    });
    const added = waitForEvent(env.b.parley.events, 'transferAdded');
    const moving = waitForEvent(env.b.parley.events, 'transferProgress', (_t, p) => p.bytes > 0);
    env.server.sendRaw('bob', `${JSON.stringify({ op: 'file-offer', from: 'mallory', id: 'evil-3', name: 'slow.bin', size: 1_000_000, host: '127.0.0.1', port: peer.port })}\n`);
    const [transfer] = await added;
    await moving;
    await env.b.parley.transfers.cancel(transfer.id);
    expect(env.b.parley.transfers.get(transfer.id)).toMatchObject({ state: 'cancelled', cancelledBy: 'user' });
    await until(() => env.server.received.some((m) => m.op === 'file-cancel' && m.id === 'evil-3'), 10_000, 'the peer to be told');
    expect(onlyInDownloads(env.downloads)).toEqual([]);
    held?.destroy();
  });

  it('continues a resumable file from the part a broken transfer left, and only for the same sender, name and size', async () => {
    const env = await setup({ answer: () => 'accept' });
    const content = randomBytes(100_000);
    const asked: number[] = [];
    let tries = 0;
    const peer = await hostilePeer((socket) => {
      socket.on('error', () => {});
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.includes('\n')) return;
        const offset = Number(head.slice(0, head.indexOf('\n')));
        asked.push(offset);
        // The first try breaks half way; the second sends the rest.
        if (++tries === 1) socket.write(content.subarray(0, 50_000), () => socket.destroy());
        else socket.end(content.subarray(offset));
      });
    });
    const offerIt = async (id: string) => {
      const added = waitForEvent(env.b.parley.events, 'transferAdded');
      env.server.sendRaw('bob', `${JSON.stringify({ op: 'file-offer', from: 'mallory', id, name: 'big.iso', size: content.length, resumable: true, host: '127.0.0.1', port: peer.port })}\n`);
      const [transfer] = await added;
      return env.b.parley.transfers.settled(transfer.id);
    };
    const broken = await offerIt('try-1');
    expect(broken.error?.code).toBe('transfer-incomplete');
    // The part stays under its hidden temporary name; nothing has the final name.
    const parts = filesUnder(env.downloads);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/\/\.big\.iso\.[0-9a-f]+\.parley-part$/);
    const resumed = await offerIt('try-2');
    expect(resumed.state).toBe('done');
    expect(asked).toEqual([0, 50_000]);
    expect(sha256(readFileSync(resumed.path!))).toBe(sha256(content));
    expect(onlyInDownloads(env.downloads)).toEqual(['big.iso']);
  });

  it('removes a file whose checksum is not the one offered', async () => {
    const { settled, downloads } = await offer({ name: 'signed.bin', size: 7, sha256: sha256(Buffer.from('PAYLOAD')) });
    expect(settled.state).toBe('failed');
    expect(settled.error?.code).toBe('transfer-checksum-mismatch');
    expect(onlyInDownloads(downloads)).toEqual([]);
  });

  it('fails an offer the plugin cannot accept (a port no socket can use) and removes the temporary file', async () => {
    const { settled, downloads } = await offer({ name: 'bad-port.bin', size: 7, port: 70_000 });
    expect(settled.state).toBe('failed');
    expect(onlyInDownloads(downloads)).toEqual([]);
  });

  it('keeps a file whose checksum matches', async () => {
    const { settled } = await offer({ name: 'signed.bin', size: 7, sha256: sha256(Buffer.from('payload')) });
    expect(settled.state).toBe('done');
  });
});
