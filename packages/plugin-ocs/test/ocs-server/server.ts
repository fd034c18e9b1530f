/**
 * A protocol-level OCS 2007 R2 / Lync registrar on a real TLS (or TCP)
 * socket, for tests: it runs the [MS-SIPAE] NTLM handshake (CHALLENGE in a
 * 401's gssapi-data, verification of the client's NTLMv2 proof and of its
 * message signatures) and, given a keytab, the Kerberos one (the client's
 * AP-REQ accepted through the real GSS-API, the AP-REP sent back in a 401
 * when the client asked for mutual authentication, signatures made with
 * gss_get_mic and checked with gss_verify_mic), signs its own messages with
 * rspauth, enforces a
 * client-version policy (403 with Warning 310 as OCS words it), can redirect
 * with 301, and can sign a user off with a registration NOTIFY.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  createChallenge,
  encodeAvPairs,
  NtlmFlag,
  parseAuthenticate,
  verifyAuthenticate,
  type SessionKeys,
} from '../../src/ntlm.js';
import { messageFields, ntlmMac, signatureString, SIP_SIGNATURE_SEQUENCE } from '../../src/signing.js';
import { GssAcceptor, GssCredential } from '../../src/auth/gssapi.js';
import { parseAuthHeader } from '../../src/auth/params.js';
import { headerValue, headerValues, methodOf, parseRawMessage, statusCode, type RawMessage } from '../../src/sip/headers.js';
import { SipFramer } from '../../src/transport/framer.js';
import { OcsServices, type Body, type Peer, type ServiceOptions } from './services.js';
import type { ConferenceServices } from './conference.js';

export type { ServiceOptions } from './services.js';

export interface OcsUser {
  /** Sign-in address user@domain. */
  address: string;
  displayName?: string;
  /** NTLM user name (as in DOMAIN\user or the bare user). */
  login: string;
  password: string;
  /** Kerberos principal, user@REALM; default the bare login at the server's Kerberos realm. */
  principal?: string;
}

export interface OcsServerOptions {
  users: OcsUser[];
  tls?: { key: string; cert: string };
  host?: string;
  /** Listen on this port (default: one the system picks); a restarted server takes its predecessor's. */
  port?: number;
  realm?: string;
  targetName?: string;
  /** [MS-SIPAE] protocol version announced; 4 makes clients sign the AUTHENTICATE REGISTER. */
  version?: number;
  /** Returns false for User-Agents the server refuses (the client-version policy). */
  clientVersionPolicy?: (userAgent: string) => boolean;
  /** After authentication, answer REGISTER with 301 to this address. */
  redirectTo?: { host: string; port: number; transport?: 'tls' | 'tcp' };
  expires?: number;
  /** Corrupt the server's rspauth (to test clients that must notice). */
  tamperRspauth?: boolean;
  /** Answer every REGISTER with this status (e.g. 503 during maintenance). */
  failRegisterWith?: { status: number; reason: string; headers?: string[] };
  /** Forget each client's security association after its first registration (forces a new handshake on refresh). */
  forgetSessions?: boolean;
  /** Never answer the REGISTER that carries the AUTHENTICATE message (a stalled server). */
  stallOnAuthenticate?: boolean;
  /** Contacts, presence and IM routing behaviour. */
  services?: ServiceOptions;
  /**
   * Answer REGISTER as OCS 2005 did: without `Supported: msrtc-event-categories`. pidgin-sipe
   * then holds group conversations without an MCU (multiparty IM) instead of conferences.
   */
  ocs2005?: boolean;
  /** Announce `Supported: adhoclist` (batched presence subscriptions); default true. */
  batchedPresence?: boolean;
  /**
   * Offer and accept Kerberos with the service keys of `sip/<targetName>` in `keytab`
   * (users' principals are at `realm`). Without it only NTLM is offered.
   */
  kerberos?: { keytab: string; realm: string; only?: boolean };
}

/** Exactly how OCS words its client-version rejection. */
export const CLIENT_VERSION_WARNING = '310 lcs.microsoft.com "You are currently not using the recommended version of the client"';

export const SERVER_CHALLENGE_FLAGS =
  (NtlmFlag.UNICODE |
    NtlmFlag.OEM |
    NtlmFlag.SIGN |
    NtlmFlag.SEAL |
    NtlmFlag.DATAGRAM |
    NtlmFlag.NTLM |
    NtlmFlag.ALWAYS_SIGN |
    NtlmFlag.EXTENDED_SESSIONSECURITY |
    NtlmFlag.IDENTIFY |
    NtlmFlag.TARGET_INFO |
    NtlmFlag.VERSION |
    NtlmFlag.NEGOTIATE_128 |
    NtlmFlag.KEY_EXCH |
    NtlmFlag.NEGOTIATE_56) >>>
  0;

export interface ServerEvent {
  kind: string;
  detail: string;
}

/** The server's side of one security association ([MS-SIPAE] 3.3). */
interface ServerAssociation {
  protocol: 'NTLM' | 'Kerberos';
  targetName: string;
  /** A REGISTER has succeeded with it (forgetSessions drops it on the next one). */
  registered?: boolean;
  /** rspauth over the server's signature string. */
  sign(text: Buffer): Buffer;
  /** Checks a client's `response`. */
  verify(text: Buffer, signature: Buffer): boolean;
  dispose(): void;
}

function ntlmAssociation(keys: SessionKeys, targetName: string): ServerAssociation {
  return {
    protocol: 'NTLM',
    targetName,
    sign: (text) => ntlmMac(keys.flags, keys.serverSigningKey, keys.serverSealingKey, SIP_SIGNATURE_SEQUENCE, text),
    verify: (text, signature) => ntlmMac(keys.flags, keys.clientSigningKey, keys.clientSealingKey, SIP_SIGNATURE_SEQUENCE, text).equals(signature),
    dispose: () => undefined,
  };
}

function kerberosAssociation(context: GssAcceptor, targetName: string): ServerAssociation {
  return {
    protocol: 'Kerberos',
    targetName,
    sign: (text) => context.getMic(text),
    verify: (text, signature) => {
      try {
        return context.verifyMic(text, signature);
      } catch {
        // An expired context: the client has to authenticate again.
        return false;
      }
    },
    dispose: () => context.dispose(),
  };
}

interface Client extends Peer {
  socket: net.Socket;
  serverChallenge?: Buffer;
  opaque: string;
  sa?: ServerAssociation;
  user?: OcsUser;
  snum: number;
  fromTag?: string;
  contact?: string;
  callId?: string;
}

export interface OcsServer {
  host: string;
  port: number;
  events: ServerEvent[];
  /** User-Agent of every REGISTER seen. */
  userAgents: string[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections open now: none means no client can send anything more until it connects again. */
  readonly openConnections: number;
  /** The address each connection came from, in order (to tell a proxied client from a direct one). */
  peers: string[];
  /** Closes every client connection (the server's side of a network failure). */
  dropConnections(): void;
  /** Closes the connections of one user's clients only (the others stay); resolves how many. */
  dropConnectionsOf(address: string): number;
  /**
   * Writes `text` as it is to every connection signed in as `address` (hostile-input tests);
   * `sign` adds a valid rspauth first, so the client gets past its signature check.
   */
  sendRaw(address: string, text: string, options?: { sign?: boolean }): number;
  /** Sends `body` in a NOTIFY on each of `address`'s subscriptions to `event` (hostile-input tests); returns how many. */
  notifyRaw(address: string, event: string, body: Body): number;
  /** Moves `address`'s publications on a version behind its clients' backs (see OcsServices). */
  bumpPublications(address: string): number;
  /** Sends the first contact list held back by `services.holdContactLists`; returns how many. */
  releaseContactList(address: string): number;
  /** The roaming contact list the server keeps for `address`: what a client's changes did on the server's side. */
  contactList(address: string): Array<{ uri: string; name: string; groups: string[] }>;
  /** The conferencing services: conferences created, their members, the MCU's relayed messages, hostile NOTIFYs, an MCU that drops. */
  readonly conferences: ConferenceServices;
  /** Sends a deregistration NOTIFY to every client signed in as `address`. */
  deregister(address: string, event: 'unregistered' | 'rejected' | 'deactivated'): Promise<number>;
  close(): Promise<void>;
}

export async function startOcsServer(options: OcsServerOptions): Promise<OcsServer> {
  const realm = options.realm ?? 'SIP Communications Service';
  const targetName = options.targetName ?? 'ocs.example.test';
  const version = options.version ?? 4;
  const expires = options.expires ?? 3600;
  const kerberosTarget = `sip/${targetName}`;
  const kerberosCredential = options.kerberos ? GssCredential.fromKeytab(options.kerberos.keytab) : undefined;
  const principalOf = (user: OcsUser) => {
    if (user.principal) return user.principal.toLowerCase();
    const login = user.login.includes('\\') ? user.login.split('\\')[1]! : user.login.split('@')[0]!;
    return `${login}@${options.kerberos?.realm ?? ''}`.toLowerCase();
  };
  const events: ServerEvent[] = [];
  const userAgents: string[] = [];
  const clients = new Set<Client>();
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let peerIds = 0;
  let registrations = 0;

  const findUser = (login: string, domain: string) =>
    options.users.find((u) => {
      const l = u.login.toLowerCase();
      const bare = l.includes('\\') ? l.split('\\')[1]! : l;
      return l === login.toLowerCase() || bare === login.toLowerCase() || (domain !== '' && l === `${domain}\\${login}`.toLowerCase());
    });

  const send = (client: Client, text: string) => {
    if (!client.socket.destroyed) client.socket.write(text);
  };

  /** Authentication-Info with rspauth over the response's signature string ([MS-SIPAE] 3.2.5.2). */
  const sign = (client: Client, text: string): string => {
    const sa = client.sa;
    if (!sa) return text;
    const srand = randomBytes(4).toString('hex').toUpperCase();
    const snum = String(++client.snum);
    const fields = { protocol: sa.protocol, rand: srand, num: snum, realm, targetName: sa.targetName, ...messageFields(parseRawMessage(text)) };
    const mac = sa.sign(Buffer.from(signatureString(version, fields)));
    if (options.tamperRspauth) mac[10] ^= 0x01;
    const header = `Authentication-Info: ${sa.protocol} rspauth="${mac.toString('hex').toUpperCase()}", srand="${srand}", snum="${snum}", opaque="${client.opaque}", qop="auth", targetname="${sa.targetName}", realm="${realm}"`;
    const end = text.indexOf('\r\n\r\n');
    return `${text.slice(0, end)}\r\n${header}${text.slice(end)}`;
  };

  /** `toTag`: true adds the connection's tag when the To has none; a string is the tag of a dialog the server holds. */
  const respond = (client: Client, request: RawMessage, status: number, reason: string, extra: string[] = [], body?: Body, toTag: boolean | string = true) => {
    const lines = [`SIP/2.0 ${status} ${reason}`];
    for (const via of headerValues(request, 'Via')) lines.push(`Via: ${via}`);
    lines.push(`From: ${headerValue(request, 'From') ?? ''}`);
    const to = headerValue(request, 'To') ?? '';
    lines.push(`To: ${to}${toTag !== false && !/;tag=/.test(to) ? `;tag=${typeof toTag === 'string' ? toTag : `${client.opaque}0A`}` : ''}`);
    lines.push(`Call-ID: ${headerValue(request, 'Call-ID') ?? ''}`);
    lines.push(`CSeq: ${headerValue(request, 'CSeq') ?? ''}`);
    lines.push(...extra, 'Server: RTC/3.5');
    if (body) lines.push(`Content-Type: ${body.type}`);
    const content = body?.content ?? '';
    lines.push(`Content-Length: ${Buffer.byteLength(content)}`, '', content);
    send(client, sign(client, lines.join('\r\n')));
  };

  /** Checks the client's signature on a request, from its Authorization header. */
  const signatureValid = (client: Client, request: RawMessage, params: ReadonlyMap<string, string>): boolean => {
    const sa = client.sa;
    if (!sa) return false;
    const response = params.get('response');
    if (!response || response.length > 1024 || response.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(response)) return false;
    const fields = { protocol: sa.protocol, rand: params.get('crand') ?? '', num: params.get('cnum') ?? '', realm: params.get('realm') ?? realm, targetName: params.get('targetname') ?? sa.targetName, ...messageFields(request) };
    return sa.verify(Buffer.from(signatureString(version, fields)), Buffer.from(response, 'hex'));
  };

  const challengeHeaders = () => [
    ...(options.kerberos?.only ? [] : [`WWW-Authenticate: NTLM realm="${realm}", targetname="${targetName}", version=${version}`]),
    ...(options.kerberos ? [`WWW-Authenticate: Kerberos realm="${realm}", targetname="${kerberosTarget}", version=${version}`] : []),
  ];

  const forget = (client: Client) => {
    client.sa?.dispose();
    client.sa = undefined;
  };

  const registered = (client: Client, request: RawMessage) => {
    const user = client.user!;
    const contact = headerValue(request, 'Contact') ?? '';
    const requested = headerValue(request, 'Expires');
    if (requested?.trim() === '0') {
      events.push({ kind: 'deregistered', detail: user.address });
      respond(client, request, 200, 'OK', ['Expires: 0']);
      client.registered = false;
      services.peerGone(client);
      return;
    }
    if (client.sa) client.sa.registered = true;
    client.contact = /<([^>]+)>/.exec(contact)?.[1];
    client.fromTag = /;tag=([^;]+)/.exec(headerValue(request, 'From') ?? '')?.[1];
    client.callId = headerValue(request, 'Call-ID');
    const instance = /\+sip\.instance="([^"]+)"/.exec(contact)?.[1] ?? '';
    events.push({ kind: 'registered', detail: user.address });
    respond(client, request, 200, 'OK', [
      `Contact: <${client.contact ?? ''}>;expires=${expires};+sip.instance="${instance}";gruu="sip:${user.address};opaque=user:epid:${client.opaque};gruu"`,
      `Expires: ${expires}`,
      'ms-keep-alive: UAS; tcp=no; hop-hop=yes; end-end=no; timeout=300',
      'presence-state: register-action="added"',
      'Allow-Events: vnd-microsoft-provisioning,vnd-microsoft-roaming-contacts,vnd-microsoft-roaming-ACL,presence,presence.wpending,vnd-microsoft-roaming-self,vnd-microsoft-provisioning-v2',
      ...(options.batchedPresence === false ? [] : ['Supported: adhoclist']),
      ...(options.ocs2005 ? [] : ['Supported: msrtc-event-categories']),
    ]);
    const first = !client.registered;
    client.registered = true;
    if (first) {
      client.registeredAt = ++registrations;
      services.changed(user.address);
    }
  };

  const onRegister = (client: Client, request: RawMessage) => {
    const ua = headerValue(request, 'User-Agent') ?? '';
    userAgents.push(ua);
    events.push({ kind: 'register', detail: ua });
    if (options.failRegisterWith) {
      const f = options.failRegisterWith;
      respond(client, request, f.status, f.reason, f.headers ?? []);
      return;
    }
    const authorization = headerValue(request, 'Authorization') ?? headerValue(request, 'Proxy-Authorization');
    let params: ReadonlyMap<string, string> | undefined;
    let scheme = '';
    if (authorization) {
      try {
        const parsed = parseAuthHeader(authorization);
        scheme = parsed.scheme.toUpperCase();
        const offered = scheme === 'KERBEROS' ? !!options.kerberos : scheme === 'NTLM' && !options.kerberos?.only;
        if (offered) params = parsed.params;
      } catch {
        params = undefined;
      }
    }
    // Already authenticated on this connection: the REGISTER must be signed.
    if (client.sa?.registered && options.forgetSessions && params?.has('response') && !params.has('gssapi-data')) {
      events.push({ kind: 'forgot-session', detail: client.sa.protocol });
      forget(client);
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    if (client.sa && params?.has('response') && !params.has('gssapi-data')) {
      if (!signatureValid(client, request, params)) {
        events.push({ kind: 'bad-signature', detail: 'REGISTER' });
        forget(client);
        respond(client, request, 401, 'Unauthorized', challengeHeaders());
        return;
      }
      return afterAuthentication(client, request, ua);
    }
    if (!params) {
      forget(client);
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    if (scheme === 'KERBEROS') return onKerberos(client, request, params, ua);
    const data = params.get('gssapi-data');
    if (data === undefined || data === '') {
      client.serverChallenge = randomBytes(8);
      client.opaque = randomBytes(4).toString('hex').toUpperCase();
      const info = encodeAvPairs([
        { id: 2, value: Buffer.from('EXAMPLE', 'utf16le') },
        { id: 1, value: Buffer.from('OCS', 'utf16le') },
        { id: 4, value: Buffer.from('example.test', 'utf16le') },
        { id: 3, value: Buffer.from(targetName, 'utf16le') },
      ]);
      const challenge = createChallenge({ flags: SERVER_CHALLENGE_FLAGS, serverChallenge: client.serverChallenge, targetName: '', targetInfo: info });
      respond(client, request, 401, 'Unauthorized', [
        `WWW-Authenticate: NTLM opaque="${client.opaque}", gssapi-data="${challenge.toString('base64')}", targetname="${targetName}", realm="${realm}", version=${version}`,
      ]);
      return;
    }
    if (options.stallOnAuthenticate) return;
    if (!client.serverChallenge || params.get('opaque') !== client.opaque) {
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    let keys: SessionKeys | undefined;
    let user: OcsUser | undefined;
    try {
      const authenticate = parseAuthenticate(Buffer.from(data, 'base64'));
      user = findUser(authenticate.user, authenticate.domain);
      keys = user ? verifyAuthenticate(authenticate, client.serverChallenge, user.password) : undefined;
    } catch {
      keys = undefined;
    }
    client.serverChallenge = undefined;
    if (!keys || !user) {
      events.push({ kind: 'bad-password', detail: user?.address ?? 'unknown user' });
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    forget(client);
    client.sa = ntlmAssociation(keys, targetName);
    client.user = user;
    client.snum = 0;
    // Version 4 and later: the REGISTER carrying AUTHENTICATE is already signed ([MS-SIPAE] 3.2.5.1).
    if (version > 3 && !signatureValid(client, request, params)) {
      events.push({ kind: 'bad-signature', detail: 'AUTHENTICATE REGISTER' });
      forget(client);
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    events.push({ kind: 'authenticated', detail: user.address });
    afterAuthentication(client, request, ua);
  };

  /**
   * Kerberos ([MS-SIPAE] 3.3.5.2): one AP-REQ in gssapi-data. A client that
   * asked for mutual authentication gets the AP-REP back in a 401 with the
   * opaque, and signs its next REGISTER; one that did not (pidgin-sipe,
   * Communicator) has a complete context at once and, from version 4 on,
   * already signed this REGISTER.
   */
  const onKerberos = (client: Client, request: RawMessage, params: ReadonlyMap<string, string>, ua: string) => {
    const data = params.get('gssapi-data');
    if (!data || !kerberosCredential) {
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    if (options.stallOnAuthenticate) return;
    forget(client);
    const context = new GssAcceptor(kerberosCredential);
    let reply: Buffer | undefined;
    try {
      reply = context.step(Buffer.from(data, 'base64'));
    } catch (error) {
      context.dispose();
      events.push({ kind: 'kerberos-rejected', detail: (error as Error).message });
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    const principal = context.initiator.toLowerCase();
    const user = context.complete ? options.users.find((u) => principalOf(u) === principal) : undefined;
    if (!user) {
      context.dispose();
      events.push({ kind: 'kerberos-unknown-principal', detail: principal });
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    client.opaque = randomBytes(4).toString('hex').toUpperCase();
    client.user = user;
    client.snum = 0;
    events.push({ kind: 'authenticated', detail: user.address });
    if (reply) {
      events.push({ kind: 'kerberos-mutual', detail: user.address });
      // The 401 goes out unsigned: the client cannot check a signature before it has read the AP-REP.
      respond(client, request, 401, 'Unauthorized', [
        `WWW-Authenticate: Kerberos opaque="${client.opaque}", gssapi-data="${reply.toString('base64')}", targetname="${kerberosTarget}", realm="${realm}", version=${version}`,
      ]);
      client.sa = kerberosAssociation(context, kerberosTarget);
      return;
    }
    client.sa = kerberosAssociation(context, kerberosTarget);
    if (version > 3 && !signatureValid(client, request, params)) {
      events.push({ kind: 'bad-signature', detail: 'AP-REQ REGISTER' });
      forget(client);
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    afterAuthentication(client, request, ua);
  };

  const afterAuthentication = (client: Client, request: RawMessage, ua: string) => {
    const from = /<sip:([^>;]+)>/i.exec(headerValue(request, 'From') ?? '')?.[1]?.toLowerCase();
    if (!from || from !== client.user!.address.toLowerCase()) {
      respond(client, request, 404, 'Not Found', [
        `ms-diagnostics: 4005;reason="Destination URI either not enabled for SIP or does not exist";source="${targetName}"`,
      ]);
      return;
    }
    if (options.clientVersionPolicy && !options.clientVersionPolicy(ua)) {
      events.push({ kind: 'rejected', detail: ua });
      respond(client, request, 403, 'Forbidden', [`Warning: ${CLIENT_VERSION_WARNING}`]);
      return;
    }
    if (options.redirectTo) {
      const r = options.redirectTo;
      respond(client, request, 301, 'Redirect request to Home Server', [`Contact: <sip:${r.host}:${r.port};transport=${r.transport ?? 'tls'}>`]);
      return;
    }
    registered(client, request);
  };

  let listenPort = 0;
  const services = new OcsServices(
    {
      host: options.host ?? '127.0.0.1',
      get port() {
        return listenPort;
      },
      users: () => options.users,
      peers: () => clients,
      respond: (peer, request, status, reason, extra, body, toTag) => respond(peer as Client, request, status, reason, extra, body, toTag ?? true),
      event: (kind, detail) => events.push({ kind, detail }),
    },
    options.services,
  );

  const onMessage = (client: Client, text: string) => {
    let request: RawMessage;
    try {
      request = parseRawMessage(text);
    } catch (error) {
      events.push({ kind: 'unparseable', detail: `${(error as Error).message}: ${JSON.stringify(text.slice(0, 2000))}` });
      client.socket.destroy();
      return;
    }
    const method = methodOf(request);
    if (statusCode(request) !== undefined) {
      const authorization = headerValue(request, 'Authorization');
      let ok = false;
      try {
        ok = !!client.sa && !!authorization && signatureValid(client, request, parseAuthHeader(authorization).params);
      } catch {
        ok = false;
      }
      if (!ok) {
        events.push({ kind: 'bad-signature', detail: `response to ${method}` });
        return;
      }
      events.push({ kind: 'response', detail: `${statusCode(request)} ${method} ${headerValue(request, 'Call-ID') ?? ''}` });
      services.handleResponse(client, request);
      return;
    }
    if (method === 'REGISTER') return onRegister(client, request);
    events.push({ kind: 'request', detail: method });
    if (method === 'ACK') return;
    const authorization = headerValue(request, 'Authorization') ?? headerValue(request, 'Proxy-Authorization');
    let params: ReadonlyMap<string, string> | undefined;
    try {
      params = authorization ? parseAuthHeader(authorization).params : undefined;
    } catch {
      params = undefined;
    }
    if (!client.sa || !params || !signatureValid(client, request, params)) {
      events.push({ kind: 'bad-signature', detail: method });
      respond(client, request, 401, 'Unauthorized', challengeHeaders());
      return;
    }
    services.handleRequest(client, request, text);
  };

  const peers: string[] = [];
  const onConnection = (socket: net.Socket) => {
    connections++;
    peers.push(socket.remoteAddress ?? '');
    sockets.add(socket);
    const client: Client = {
      id: ++peerIds,
      socket,
      opaque: randomBytes(4).toString('hex').toUpperCase(),
      snum: 0,
      registered: false,
      registeredAt: 0,
      send: (text: string) => send(client, sign(client, text)),
    };
    clients.add(client);
    const framer = new SipFramer();
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const message of framer.push(chunk)) onMessage(client, message);
      } catch (error) {
        events.push({ kind: 'unparseable', detail: `${(error as Error).message}: ${JSON.stringify(chunk.subarray(0, 3000).toString())}` });
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      forget(client);
      clients.delete(client);
      sockets.delete(socket);
      if (client.registered) {
        client.registered = false;
        services.peerGone(client);
      }
    });
  };

  const server: net.Server = options.tls ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onConnection) : net.createServer(onConnection);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  listenPort = port;

  return {
    host,
    port,
    events,
    userAgents,
    peers,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    dropConnectionsOf(address) {
      let dropped = 0;
      for (const client of clients) {
        if (client.user?.address.toLowerCase() !== address.toLowerCase()) continue;
        client.socket.destroy();
        dropped++;
      }
      return dropped;
    },
    conferences: services.conferences,
    bumpPublications: (address) => services.bumpPublications(address),
    releaseContactList: (address) => services.releaseContactList(address),
    contactList: (address) => services.contactListOf(address),
    notifyRaw: (address, event, body) => services.notifyRaw(address, event, body),
    sendRaw(address, text, opts = {}) {
      let sent = 0;
      for (const client of clients) {
        if (!client.registered || client.user?.address !== address) continue;
        send(client, opts.sign ? sign(client, text) : text);
        sent++;
      }
      return sent;
    },
    async deregister(address, event) {
      let sent = 0;
      for (const client of clients) {
        if (!client.sa || client.user?.address !== address || !client.contact) continue;
        const body = `deregistered;event=${event}`;
        const text = [
          `NOTIFY ${client.contact} SIP/2.0`,
          `Via: SIP/2.0/TLS ${host}:${port};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
          `From: <sip:${address}>;tag=${randomBytes(4).toString('hex')}`,
          `To: <sip:${address}>;tag=${client.fromTag ?? ''}`,
          `Call-ID: ${randomBytes(8).toString('hex')}`,
          'CSeq: 1 NOTIFY',
          'Event: registration-notify',
          'Subscription-State: terminated;expires=0',
          'Content-Type: text/registration-event',
          `Content-Length: ${Buffer.byteLength(body)}`,
          '',
          body,
        ].join('\r\n');
        send(client, sign(client, text));
        sent++;
      }
      return sent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          kerberosCredential?.release();
          resolve();
        });
      }),
  };
}
