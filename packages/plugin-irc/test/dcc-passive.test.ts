/**
 * Passive (reverse) DCC — port 0 and a token, the receiver listens — with
 * Irssi, an independent client (WeeChat 3.8 does not speak it), on ngircd:
 * Irssi sends passively to Parley, and a Parley behind a SOCKS5 proxy
 * (Dante), which must not listen, offers passively and connects out
 * through the proxy.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UiOps } from '@parley/core';
import { startNgircd, type NgircdServer } from '../../../test/servers/ngircd.js';
import { startDante, type DanteServer } from '../../../test/servers/dante.js';
import { startIrssi, type IrssiPeer } from '../../../test/peers/irssi.js';
import { waitForEvent } from '../../../test/helpers/wait.js';
import { harness, type Harness } from './helpers.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const SIZE = 8 * 1024 * 1024 + 5;

const acceptAll: UiOps = {
  async request(request, context) {
    return (context.purpose === 'file-transfer' && request.kind === 'choice' ? 'accept' : undefined) as never;
  },
  notify() {},
};

let server: NgircdServer;
let dante: DanteServer;
let irssi: IrssiPeer;
let work: string;
let bytes: Buffer;
let source: string;

beforeAll(async () => {
  [server, dante] = await Promise.all([startNgircd(), startDante()]);
  irssi = await startIrssi({ port: server.port, nick: 'irs' });
  work = mkdtempSync(join(tmpdir(), 'parley-dcc-passive-'));
  bytes = randomBytes(SIZE);
  source = join(work, 'passive.bin');
  writeFileSync(source, bytes);
});

afterAll(async () => {
  await irssi?.close();
  await Promise.all([dante?.close(), server?.close()]);
  rmSync(work, { recursive: true, force: true });
});

describe('passive DCC with Irssi on ngircd', () => {
  it('Irssi sends passively: Parley listens, answers with its address and the token, and receives the file', async () => {
    const downloads = join(work, 'downloads');
    const h: Harness = await harness({ ui: acceptAll, transfers: { downloadDir: downloads } });
    try {
      const account = await h.account('parleyp', { server: '127.0.0.1', port: server.port, tls: false });
      await h.parley.accounts.connect(account);
      const offer = waitForEvent(h.parley.events, 'transferAdded', (t) => t.direction === 'incoming', 30_000);
      const from = irssi.events().length;
      irssi.command(`/dcc send -passive parleyp ${source}`);
      const [incoming] = await offer;
      expect(incoming).toMatchObject({ peer: 'irs', name: 'passive.bin', size: SIZE });
      expect(incoming.origin).toMatch(/^DCC \(passive\)/);
      const done = await h.parley.transfers.settled(incoming.id);
      expect(done.error).toBeUndefined();
      expect(sha(readFileSync(done.path!))).toBe(sha(bytes));
      await irssi.waitForEvent(new RegExp(`^closed SEND parleyp transferred=${SIZE} size=${SIZE} `), 'Irssi to finish sending', from);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('behind a SOCKS5 proxy Parley does not listen: it offers passively, Irssi listens, and Parley connects out through the proxy', async () => {
    const h: Harness = await harness({ ui: acceptAll });
    try {
      const account = await h.account('proxied', { server: '127.0.0.1', port: server.port, tls: false, proxy: dante.url() });
      await h.parley.accounts.connect(account);
      const from = irssi.events().length;
      const sent = await h.parley.transfers.send(account, 'irs', source);
      // Irssi takes a passive offer only when told to.
      await irssi.waitForEvent(/^request GET proxied file=passive\.bin$/, 'the passive offer', from);
      irssi.command('/dcc get proxied passive.bin');
      const done = await h.parley.transfers.settled(sent.id);
      expect(done.error).toBeUndefined();
      expect(done.state).toBe('done');
      await irssi.waitForEvent(new RegExp(`^closed GET proxied transferred=${SIZE} size=${SIZE} `), 'Irssi to finish receiving', from);
      expect(sha(readFileSync(join(irssi.downloadDir, 'passive.bin')))).toBe(sha(bytes));
      // The data connection went through Dante too: a second destination besides the IRC server.
      const destinations = [...dante.log().matchAll(/tcp\/connect .* -> \S+ 127\.0\.0\.1\.(\d+)/g)].map((m) => Number(m[1]));
      expect(destinations).toContain(server.port);
      expect(destinations.filter((port) => port !== server.port)).toHaveLength(1);
    } finally {
      await h.close();
    }
  }, 120_000);
});
