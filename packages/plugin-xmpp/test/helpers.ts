import { waitFor } from '../../../test/helpers/wait.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParley, type LogRecord, type Message, type Parley, type ParleyOptions, type UiOps, type UiRequest } from '@parley/core';
import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { connect as tlsConnect } from 'node:tls';
import xmppPlugin from '../src/index.js';
import type { TestProsody } from '../../../test/servers/prosody.js';

export interface Harness {
  parley: Parley;
  /** Parley's home directory (configuration, state, secrets). */
  home: string;
  messages: Message[];
  requests: Array<{ request: UiRequest; purpose: string }>;
  logs: LogRecord[];
  /** Adds an XMPP account for `user` on the test server; returns its id. */
  account(user: string, password: string, settings?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** Answers the core's requests: `answer` decides per request (default: decline). */
export function scriptedUi(answer: (request: UiRequest, purpose: string) => unknown, seen: Harness['requests']): UiOps {
  return {
    async request(request, context) {
      seen.push({ request, purpose: context.purpose });
      return answer(request, context.purpose) as never;
    },
    notify() {},
  };
}

export async function harness(server: TestProsody, options: Partial<ParleyOptions> & { answer?: (request: UiRequest, purpose: string) => unknown; trustCa?: boolean } = {}): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'parley-xmpp-'));
  const requests: Harness['requests'] = [];
  const logs: LogRecord[] = [];
  const { answer, trustCa, ...rest } = options;
  const parley = await createParley({
    home,
    plugins: [xmppPlugin],
    discover: false,
    passphrase: 'test passphrase',
    secretStore: 'file',
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    history: false,
    log: (record) => logs.push(record),
    ...(trustCa === false ? {} : { tls: { ca: [server.certificates.caCert] } }),
    ui: scriptedUi(answer ?? (() => undefined), requests),
    ...rest,
  });
  const messages: Message[] = [];
  parley.events.on('messageWritten', (m) => messages.push(m));
  return {
    parley,
    home,
    messages,
    requests,
    logs,
    async account(user, password, settings = {}) {
      const acc = await parley.accounts.add({
        protocol: 'xmpp',
        username: server.jid(user),
        settings: { server: server.host, port: server.port, ...settings } as never,
        secrets: { password },
      });
      return acc.id;
    },
    async close() {
      await parley.shutdown();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export { waitFor };

/**
 * Another client of the same server, on @xmpp/client directly (the "other
 * client" of roster and carbons tests, or a peer sending raw stanzas).
 */
export interface RawXmpp {
  xmpp: Client;
  stanzas: Element[];
  send(stanza: Element): Promise<void>;
  iq(type: 'get' | 'set', child: Element, to?: string): Promise<Element | undefined>;
  stop(): Promise<void>;
}

export async function rawXmpp(server: TestProsody, user: string, password: string, resource = 'raw'): Promise<RawXmpp> {
  // The library's default of 2 s to open the stream is too short for a Prosody on a busy machine.
  const xmpp = client({ service: `xmpps://${server.host}:${server.directTlsPort}`, domain: server.domain, resource, username: user, password, timeout: 30_000 });
  xmpp.reconnect.stop();
  // The library gives the stream's opening two seconds: too short on a loaded machine.
  (xmpp as unknown as { timeout: number }).timeout = 30_000;
  // Direct TLS with the test CA: a subclass of the library's TLS transport whose socket trusts it.
  const ca = server.certificates.caCert;
  type Transport = { prototype: { socketParameters(s: string): unknown; Socket: unknown } };
  const transports = (xmpp as unknown as { transports: Transport[] }).transports;
  const TlsTransport = transports.find((T) => {
    try {
      return T.prototype.socketParameters('xmpps://a:1') !== undefined;
    } catch {
      return false;
    }
  })!;
  const BaseSocket = TlsTransport.prototype.Socket as new () => { _attachSocket(s: unknown): void };
  class TrustingSocket extends BaseSocket {
    connect(options: { host: string; port: number }) {
      this._attachSocket(tlsConnect({ ...options, servername: server.domain, ca: [ca] }));
    }
  }
  const Trusting = class extends (TlsTransport as unknown as new () => object) {} as unknown as Transport;
  Trusting.prototype.Socket = TrustingSocket;
  transports.splice(0, transports.length, Trusting);
  const stanzas: Element[] = [];
  xmpp.on('stanza', (s: Element) => stanzas.push(s));
  xmpp.on('error', () => {});
  await xmpp.start();
  // RFC 6121 §2.1.6 / §4.2: a resource gets roster pushes once it asked for
  // the roster, and presence once it sent its own.
  await xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
  await xmpp.send(xml('presence', {}, xml('priority', {}, '-1')));
  return {
    xmpp,
    stanzas,
    send: (stanza) => xmpp.send(stanza),
    iq: (type, child, to) => (type === 'get' ? xmpp.iqCaller.get(child, to) : xmpp.iqCaller.set(child, to)) as Promise<Element | undefined>,
    async stop() {
      await xmpp.stop().catch(() => {});
    },
  };
}

export { xml };
