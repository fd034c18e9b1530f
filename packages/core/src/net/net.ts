import { lookup as systemLookup, Resolver } from 'node:dns/promises';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConnectionError } from '../errors/ConnectionError.js';
import type { PeerCertificate } from '../plugins/contract.js';
import { describeProxy, proxyFromEnvironment, type ProxyChoice, type ProxyServer } from './proxy.js';
import { certificateError, describePeerCertificate } from './tls.js';
import { openTunnel } from './tunnel.js';
import { openListener, type Listener, type ListenOptions } from './listen.js';

/**
 * What a connection's network layer is built from. Plain data: the core
 * pushes it into a plugin's worker, where the sockets have to live.
 */
export interface NetConfig {
  /** How to reach the network: directly, or through which proxy (see `chooseProxy`). */
  proxy: ProxyChoice;
  /** CAs to verify servers against; undefined means Node's defaults. */
  tlsCa?: string[] | undefined;
  /** DNS servers for SRV and address lookups ("host" or "host:port"); undefined means the system's. */
  dnsServers?: readonly string[] | undefined;
  /** TCP, proxy handshake and TLS handshake together, not the user's certificate decision (default 20 s). */
  connectTimeoutMs?: number;
  /** Address family for direct connections: 4, 6 or 0 for either (default). */
  family?: 0 | 4 | 6;
}

/** What the network layer asks of the core. */
export interface NetCallbacks {
  /** The certificate failed the normal check: the remembered decision, or the user's. */
  trustCertificate(cert: PeerCertificate): Promise<boolean>;
  /** The proxy's password from the secret store, when the configured proxy has a user but no password. */
  proxyPassword?(): Promise<string | undefined>;
}

/** Where `Net.connect` connects, and how. */
export interface ConnectOptions {
  /** Host name or address of the server (through a socks5h proxy, resolved by the proxy). */
  host: string;
  /** TCP port. */
  port: number;
  /** Direct TLS from the first byte; otherwise plain TCP (upgrade later with `startTls`). */
  tls?: boolean;
  /** SNI and the name the certificate must carry; defaults to `host` (no SNI for an address). */
  servername?: string;
  /** ALPN protocols to offer, most wanted first (e.g. ["xmpp-client"]). */
  alpn?: readonly string[];
  /** Aborts the attempt (pass the connection context's `signal`). */
  signal?: AbortSignal;
  /** Overrides the core's connect timeout for this attempt, in ms. */
  timeoutMs?: number;
  /**
   * A certificate that fails verification is an error, and the user is not
   * asked to trust it: for a link the server has said must be secure (IRC
   * strict transport security), where the question would let an attacker's
   * certificate through. Since core API 1.11.
   */
  strictCertificate?: boolean;
}

/** How `Net.startTls` upgrades a plain stream. */
export interface StartTlsOptions {
  /** The name the certificate must carry (and SNI): the service domain, not the SRV target. */
  servername: string;
  /** ALPN protocols to offer, most wanted first. */
  alpn?: readonly string[];
  /** Aborts the handshake. */
  signal?: AbortSignal;
  /** Overrides the core's timeout for the handshake, in ms. */
  timeoutMs?: number;
}

/** One DNS SRV record (RFC 2782), as `Net.resolveSrv` returns them. */
export interface SrvRecord {
  /** The target host. */
  name: string;
  /** The target port. */
  port: number;
  /** Lower is tried first. */
  priority: number;
  /** Among equal priorities, the share of attempts a target gets. */
  weight: number;
}

/**
 * The one way a protocol plugin reaches the network (`ctx.net`): TCP and TLS
 * streams through the configured proxy, TLS verified against the core's CAs
 * with the user asked (and the answer remembered) when the check fails, an
 * HTTPS agent for HTTP libraries, and DNS SRV lookups.
 */
export interface Net {
  /** A connected stream; with `tls`, verified (or trusted by the user) before it resolves. */
  connect(options: ConnectOptions): Promise<Socket>;
  /** Upgrades a plain stream to TLS (STARTTLS), with the same verification as `connect`. */
  startTls(socket: Socket, options: StartTlsOptions): Promise<TLSSocket>;
  /**
   * An agent for HTTPS clients (twitter-api-v2 and the like): each socket is
   * opened by `connect` — through the proxy, verified, with the user asked
   * (and the answer remembered) about a certificate that fails the check —
   * before the request is written, so no request goes to an unverified server.
   * A failure reaches the HTTP client as the ConnectionError `connect` gave.
   */
  httpsAgent(options?: AgentOptions): HttpsAgent;
  /**
   * An agent for requests to `url` (http: or https:) that opens its sockets
   * the way `connect` does: through the proxy the setting names for that host
   * (with its password from the secret store), names resolved with the
   * configured DNS servers. Unlike `connect`, a certificate that fails the
   * check is an error, never a question: for lookups such as autodiscover,
   * where a wrong certificate means "not this one".
   */
  agentFor(url: URL, options?: AgentOptions): HttpAgent;
  /**
   * The address of `host` from the configured DNS servers (else the system's),
   * undefined when it has none. Behind socks5h nothing is looked up: undefined.
   */
  lookup(host: string): Promise<string | undefined>;
  /**
   * DNS SRV records of `name`, lowest priority first (a "." target, RFC 2782's
   * "not available", included). Empty when there are none or the lookup failed — and
   * when a `socks5h` proxy resolves names, since a lookup here would leak
   * the destination to local DNS: use the configured server or the domain.
   */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /**
   * Since core API 1.4: a listener for a connection the peer opens to us (a
   * DCC transfer, a SOCKS5 bytestream), on `host` (the local address the peer
   * is told). Rejects with a fatal `other` ConnectionError while a proxy is
   * set, since a direct inbound connection would bypass it and reveal the
   * address: use a way where Parley connects out instead.
   */
  listen(options: ListenOptions): Promise<Listener>;
  /** Whether names are resolved by the proxy (socks5h), so plugins skip lookups of their own. */
  readonly remoteDns: boolean;
  /** The proxy in use, for messages (no password), or undefined for direct connections. */
  describeProxy(host: string, port: number, tls: boolean): string | undefined;
}

const DEFAULT_TIMEOUT_MS = 20_000;

function cancelled(): ConnectionError {
  return ConnectionError.other('Connection attempt was cancelled');
}

/** Rejects when the signal fires or the time is up, destroying what `settle` would have returned. */
function bounded<T extends { destroy(): void }>(work: Promise<T>, ms: number, signal: AbortSignal | undefined, onTimeout: () => ConnectionError): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      if (done) return;
      finish();
      reject(onTimeout());
    }, ms);
    timer.unref();
    if (signal?.aborted === true) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        if (done) value.destroy();
        else {
          finish();
          resolve(value);
        }
      },
      (error: unknown) => {
        if (done) return;
        finish();
        reject(error);
      },
    );
  });
}

function networkError(host: string, port: number, error: NodeJS.ErrnoException): ConnectionError {
  return ConnectionError.network(`Cannot reach ${host}:${port}: ${error.code ?? error.message}`, { cause: error, protocolDetail: error.code });
}

/**
 * Builds a `Net` for one set of settings (the core makes one per connection
 * attempt, from the account's proxy and the global settings). Exported for
 * code that needs the network layer outside a plugin, e.g. a plugin's own tests.
 */
export function createNet(config: NetConfig, callbacks: NetCallbacks): Net {
  const timeoutOf = (ms: number | undefined) => ms ?? config.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const dnsServers = config.dnsServers !== undefined && config.dnsServers.length > 0 ? [...config.dnsServers] : undefined;

  const remoteDns = config.proxy.mode === 'server' && config.proxy.server.scheme === 'socks5h';

  const resolver = (): Resolver => {
    const r = new Resolver({ timeout: 3000, tries: 2 });
    if (dnsServers !== undefined) r.setServers(dnsServers);
    return r;
  };

  /** The proxy for one destination, with its password from the secret store when the setting has none. */
  async function proxyFor(host: string, port: number, tls: boolean): Promise<ProxyServer | undefined> {
    const choice = config.proxy;
    const server = choice.mode === 'none' ? undefined : choice.mode === 'env' ? proxyFromEnvironment(choice.env, host, port, tls) : choice.server;
    if (server === undefined || server.username === undefined || server.password !== undefined || callbacks.proxyPassword === undefined) return server;
    const password = await callbacks.proxyPassword();
    return password === undefined ? server : { ...server, password };
  }

  /** An address for `host`: the configured DNS servers when set, the system's resolver otherwise (or when they know nothing). */
  async function address(host: string): Promise<string> {
    if (isIP(host) !== 0) return host;
    if (dnsServers !== undefined) {
      const r = resolver();
      const family = config.family ?? 0;
      for (const kind of family === 6 ? ['6'] : family === 4 ? ['4'] : ['4', '6']) {
        try {
          const found = kind === '4' ? await r.resolve4(host) : await r.resolve6(host);
          if (found[0] !== undefined) return found[0];
        } catch {
          // Not known there: the next family, then the system resolver (hosts file).
        }
      }
    }
    try {
      return (await systemLookup(host, { family: config.family ?? 0 })).address;
    } catch (error) {
      throw ConnectionError.network(`Cannot find the address of ${host}`, { cause: error, protocolDetail: (error as NodeJS.ErrnoException).code });
    }
  }

  async function tcp(host: string, port: number, tls: boolean, signal: AbortSignal | undefined, timeoutMs: number): Promise<Socket> {
    const proxy = await proxyFor(host, port, tls);
    if (proxy !== undefined) {
      // socks5h and HTTP CONNECT pass the name on; SOCKS4 and plain SOCKS5 get an address resolved here.
      const remoteNames = proxy.scheme === 'socks5h' || proxy.scheme === 'http';
      const target = remoteNames ? host : await address(host);
      return openTunnel(proxy, { host: target, port, timeoutMs, ...(signal === undefined ? {} : { signal }) });
    }
    const target = await address(host);
    return bounded(
      new Promise<Socket>((resolve, reject) => {
        const socket = tcpConnect({ host: target, port });
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socket);
        });
        socket.once('error', (error: NodeJS.ErrnoException) => reject(networkError(host, port, error)));
      }),
      timeoutMs,
      signal,
      () => ConnectionError.network(`No answer from ${host}:${port}`, { protocolDetail: 'ETIMEDOUT' }),
    );
  }

  /**
   * TLS over `socket`, then the certificate check: a failure goes to the user,
   * whose answer decides; with `ask` false it is an error at once.
   */
  async function secure(socket: Socket, host: string, servername: string, alpn: readonly string[] | undefined, signal: AbortSignal | undefined, timeoutMs: number, ask = true): Promise<TLSSocket> {
    const tlsSocket = await bounded(
      new Promise<TLSSocket>((resolve, reject) => {
        const s = tlsConnect({
          socket,
          host: servername,
          ...(isIP(servername) === 0 ? { servername } : {}),
          ...(config.tlsCa === undefined ? {} : { ca: config.tlsCa }),
          ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
          // Checked below, so that a failed check can go to the user instead of just failing.
          rejectUnauthorized: false,
        });
        s.once('secureConnect', () => {
          s.off('error', onError);
          resolve(s);
        });
        const onError = (error: NodeJS.ErrnoException) => reject(ConnectionError.network(`TLS with ${host} failed: ${error.code ?? error.message}`, { cause: error, protocolDetail: error.code }));
        s.once('error', onError);
      }),
      timeoutMs,
      signal,
      () => ConnectionError.network(`No TLS answer from ${host}`, { protocolDetail: 'ETIMEDOUT' }),
    ).catch((error: unknown) => {
      socket.destroy();
      throw error;
    });
    if (tlsSocket.authorized) return tlsSocket;
    const code = String(tlsSocket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // Nothing is read or written while the user decides.
    tlsSocket.pause();
    const cert = describePeerCertificate(tlsSocket, servername, code);
    if (cert === undefined || !ask) {
      tlsSocket.destroy();
      throw certificateError(code, servername);
    }
    let trusted: boolean;
    try {
      trusted = await callbacks.trustCertificate(cert);
    } catch (error) {
      tlsSocket.destroy();
      throw error;
    }
    if (!trusted || signal?.aborted === true || tlsSocket.destroyed) {
      tlsSocket.destroy();
      if (signal?.aborted === true) throw cancelled();
      if (!trusted) throw certificateError(code, servername, cert.fingerprint256);
      throw ConnectionError.network(`The connection to ${host} closed while the certificate was being checked`);
    }
    tlsSocket.resume();
    return tlsSocket;
  }

  return {
    async connect(options) {
      const timeoutMs = timeoutOf(options.timeoutMs);
      const socket = await tcp(options.host, options.port, options.tls === true, options.signal, timeoutMs);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
      if (options.tls !== true) return socket;
      return secure(socket, options.host, options.servername ?? options.host, options.alpn, options.signal, timeoutMs, options.strictCertificate !== true);
    },

    startTls(socket, options) {
      return secure(socket, options.servername, options.servername, options.alpn, options.signal, timeoutOf(options.timeoutMs));
    },

    httpsAgent(options = {}) {
      return new NetHttpsAgent({ keepAlive: true, ...options }, (connectOptions) => this.connect(connectOptions));
    },

    agentFor(url, options = {}) {
      // The same path as connect(): the proxy with its stored password, the configured DNS servers and
      // the timeout; but a certificate that fails the check is an error, not a question.
      const open = async (o: ConnectOptions): Promise<Socket> => {
        const timeoutMs = timeoutOf(o.timeoutMs);
        const socket = await tcp(o.host, o.port, o.tls === true, o.signal, timeoutMs);
        return o.tls === true ? secure(socket, o.host, o.servername ?? o.host, undefined, o.signal, timeoutMs, false) : socket;
      };
      return url.protocol === 'https:' ? new NetHttpsAgent(options, open) : new NetHttpAgent(options, open);
    },

    async lookup(host) {
      if (remoteDns) return undefined;
      try {
        return await address(host);
      } catch {
        return undefined;
      }
    },

    async resolveSrv(name) {
      if (remoteDns) return [];
      let records: SrvRecord[];
      try {
        records = await resolver().resolveSrv(name);
      } catch {
        return [];
      }
      // A "." target (the service is decidedly not available, RFC 2782) is kept: the plugin decides what it means.
      return records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    },

    listen(options) {
      const choice = config.proxy;
      // Any proxy variable in the environment means the user hides behind it (`no_proxy` alone does not).
      const proxied = choice.mode === 'server' || (choice.mode === 'env' && Object.keys(choice.env).some((name) => name.toLowerCase() !== 'no_proxy'));
      return openListener(options, proxied, timeoutOf(undefined));
    },

    remoteDns,

    describeProxy(host, port, tls) {
      const choice = config.proxy;
      const server = choice.mode === 'none' ? undefined : choice.mode === 'env' ? proxyFromEnvironment(choice.env, host, port, tls) : choice.server;
      return server === undefined ? undefined : describeProxy(server);
    },
  };
}

/**
 * An HTTPS agent whose sockets come from `Net.connect`. Node's agent takes a
 * socket through the `createConnection` callback, so it can wait for the
 * proxy, the handshake and the user's certificate decision.
 */
class NetHttpsAgent extends HttpsAgent {
  constructor(
    options: AgentOptions,
    private readonly open: (options: ConnectOptions) => Promise<Socket>,
  ) {
    super(options);
  }

  override createConnection(options: { host?: string | null; hostname?: string | null; port?: number | string | null; servername?: string | null }, callback?: (error: Error | null, socket: Duplex) => void): undefined {
    const host = (options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    const port = Number(options.port ?? 443);
    const servername = options.servername ?? undefined;
    this.open({ host, port, tls: true, ...(servername === undefined || servername === '' ? {} : { servername }) }).then(
      (socket) => callback?.(null, socket),
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

/** The plain-HTTP counterpart of NetHttpsAgent, for `http:` URLs. */
class NetHttpAgent extends HttpAgent {
  constructor(
    options: AgentOptions,
    private readonly open: (options: ConnectOptions) => Promise<Socket>,
  ) {
    super(options);
  }

  override createConnection(options: { host?: string | null; hostname?: string | null; port?: number | string | null }, callback?: (error: Error | null, socket: Duplex) => void): undefined {
    const host = (options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    this.open({ host, port: Number(options.port ?? 80) }).then(
      (socket) => callback?.(null, socket),
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
    );
    return undefined;
  }
}
