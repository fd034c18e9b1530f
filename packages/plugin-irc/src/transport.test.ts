import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createNet } from '@parley/core';
import { createTransportClass } from './transport.js';

const silentLog = { debug() {}, info() {}, warn() {}, error() {} } as never;

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(onSocket: (s: Socket) => void): Promise<number> {
  server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('transport idle timeout (our PING timeout)', () => {
  it('closes a link whose server says something once and then nothing, with ETIMEDOUT', async () => {
    const port = await listen((s) => s.write(':srv NOTICE * :hello\r\n'));
    const Transport = createTransportClass({
      log: silentLog,
      encoding: 'utf-8',
      fallbackEncoding: 'windows-1252',
      open: (options) => createNet({ proxy: { mode: 'none' } }, { trustCertificate: async () => false }).connect(options),
      idleTimeoutMs: 200,
    });
    const transport = new Transport({ host: '127.0.0.1', port, tls: false });
    const lines: string[] = [];
    transport.on('line', (l: string) => lines.push(l));
    const closed = new Promise<unknown>((resolve) => transport.once('close', resolve));
    transport.connect();
    const error = await closed;
    expect(lines).toEqual([':srv NOTICE * :hello']);
    expect(error).toMatchObject({ code: 'ETIMEDOUT' });
    expect(String((error as Error).message)).toMatch(/No data from the server/);
  });
});
