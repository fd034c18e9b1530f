/**
 * The SIP layer the OCS features talk to: sends requests through sip.js
 * non-INVITE client transactions, answers incoming requests, and runs every
 * message through the security layer (signing out, rspauth check in).
 * Registration, and later presence and IM, are built on this.
 */
import { ParleyError } from '@parley/core';
import { Core, Grammar, type URI } from 'sip.js';
import type { Logger } from '@parley/core';
import type { StreamTransport } from '../transport/stream-transport.js';
import { assertHeaderSafe, headerValue, headerValues, parseRawMessage, SipSyntaxError, statusCode, type RawMessage } from './headers.js';

export interface SecurityLayer {
  /** The Authorization header value for an outgoing message, if any. */
  authorization(message: RawMessage): string | undefined;
  /**
   * Checks an incoming message. Returns 'accept', 'ignore' (unsigned where a
   * signature is required), or throws when the signature is bad.
   */
  verify(message: RawMessage): 'accept' | 'ignore';
}

/**
 * Answers a 401 or 407 to a request other than REGISTER (RFC 3261 22.2,
 * 22.3) with the credentials header value for the retried request.
 */
export interface ChallengeResponder {
  answer(challenges: readonly string[], method: string, uri: string): string;
}

export interface SipResponse {
  status: number;
  reason: string;
  raw: RawMessage;
  message: Core.IncomingResponseMessage;
  /** The CSeq number of the request this answers (higher than asked for when a challenge was answered). */
  cseq: number;
}

export interface RequestOptions {
  to?: string;
  callId?: string;
  cseq?: number;
  fromTag?: string;
  /** In a dialog: the peer's tag. */
  toTag?: string;
  extraHeaders?: string[];
  body?: { contentType: string; content: string };
  timeoutMs?: number;
}

export interface IncomingRequest {
  raw: RawMessage;
  message: Core.IncomingRequestMessage;
}

export class SipRequestTimeout extends ParleyError {
  declare readonly code: 'ocs-request-timeout';
  constructor(method: string) {
    super('ocs-request-timeout', `No answer to ${method} from the server`);
  }
}

export interface SipEndpointOptions {
  transport: StreamTransport;
  log: Logger;
  /** The sign-in address as a SIP URI. */
  aor: URI;
  userAgent: string;
  /** Endpoint id Office Communicator puts on From ([MS-SIPRE] 2.2.3 epid). */
  epid: string;
  requestTimeoutMs?: number;
}

export class SipEndpoint {
  security: SecurityLayer | undefined;
  /** Plain SIP accounts: answers proxy and server challenges to requests other than REGISTER. */
  challenges: ChallengeResponder | undefined;
  onRequest: ((request: IncomingRequest) => void) | undefined;
  /** A message that breaks the session's integrity (bad signature). */
  onIntegrityError: ((error: Error) => void) | undefined;

  private readonly transactions = new Map<string, { transaction: Core.ClientTransaction; fail: (error: Error) => void }>();
  private readonly loggerFactory = new Core.LoggerFactory();
  private readonly sipLogger: Core.Logger;

  constructor(private readonly options: SipEndpointOptions) {
    this.loggerFactory.builtinEnabled = false;
    this.loggerFactory.connector = (level, category, _label, content) => {
      if (level === 'error' || level === 'warn') options.log.debug(`sip.js ${category}: ${content}`);
    };
    this.sipLogger = this.loggerFactory.getLogger('parley.ocs');
    options.transport.onMessage = (text) => this.receive(text);
  }

  get userAgent(): string {
    return this.options.userAgent;
  }
  get aor(): URI {
    return this.options.aor;
  }
  get epid(): string {
    return this.options.epid;
  }

  /** Adds the security layer's Authorization header to an outgoing message. */
  decorate(text: string): string {
    if (!this.security) return text;
    let raw: RawMessage;
    try {
      raw = parseRawMessage(text);
    } catch {
      return text;
    }
    // A retried request already carries the credentials its challenge asked for.
    if (headerValue(raw, 'Authorization') !== undefined) return text;
    const value = this.security.authorization(raw);
    if (value === undefined) return text;
    const end = text.indexOf('\r\n\r\n');
    return `${text.slice(0, end)}\r\nAuthorization: ${value}${text.slice(end)}`;
  }

  private build(method: string, ruri: string | URI, options: RequestOptions): Core.OutgoingRequestMessage {
    // The last line of defence: values are checked where the user gives them, but no header we
    // write may ever hold a line break, whatever path a value took to get here.
    if (typeof ruri === 'string') assertHeaderSafe(ruri, `The ${method} Request-URI`);
    if (options.to !== undefined) assertHeaderSafe(options.to, `The ${method} To header`);
    for (const header of options.extraHeaders ?? []) assertHeaderSafe(header, `A ${method} header`);
    const target = typeof ruri === 'string' ? Grammar.URIParse(ruri) : ruri;
    const toUri = options.to !== undefined ? Grammar.URIParse(options.to) : this.options.aor;
    if (!target || !toUri) throw new SipSyntaxError(`Invalid SIP URI for ${method}`);
    const local = this.options.transport.localAddress;
    const message = new Core.OutgoingRequestMessage(
      method,
      target,
      this.options.aor,
      toUri,
      // sip.js copies keys over its defaults: an undefined one would replace the default.
      Object.fromEntries(
        Object.entries({
          callId: options.callId,
          cseq: options.cseq ?? 1,
          fromTag: options.fromTag,
          toTag: options.toTag,
          userAgentString: this.options.userAgent,
          viaHost: `${local.address}:${local.port}`,
        }).filter(([, v]) => v !== undefined),
      ),
      options.extraHeaders ?? [],
      options.body ? { contentDisposition: 'render', contentType: options.body.contentType, content: options.body.content } : undefined,
    );
    message.setHeader('from', `${message.from.toString()};epid=${this.options.epid}`);
    return message;
  }

  async request(method: string, ruri: string | URI, options: RequestOptions = {}): Promise<SipResponse> {
    const message = this.build(method, ruri, options);
    const response = await this.transact(message, method, options.timeoutMs);
    if ((response.status !== 401 && response.status !== 407) || !this.challenges || method === 'REGISTER') return response;
    // RFC 3261 22.2/22.3: answer the challenge once, in a new request with the same Call-ID, tags and a higher CSeq.
    // A second challenge goes back to the caller, so wrong credentials cannot loop.
    const proxy = response.status === 407;
    let credentials: string;
    try {
      credentials = this.challenges.answer(headerValues(response.raw, proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate'), method, message.ruri.toString());
    } catch (error) {
      this.options.log.warn(`Cannot answer the server's challenge to ${method}: ${(error as Error).message}`);
      return response;
    }
    if (/[\r\n]/.test(credentials)) return response;
    const retry = this.build(method, ruri, {
      ...options,
      callId: message.callId,
      fromTag: message.fromTag,
      cseq: message.cseq + 1,
      extraHeaders: [...(options.extraHeaders ?? []), `${proxy ? 'Proxy-Authorization' : 'Authorization'}: ${credentials}`],
    });
    return this.transact(retry, method, options.timeoutMs);
  }

  private transact(message: Core.OutgoingRequestMessage, method: string, timeoutMs: number | undefined): Promise<SipResponse> {
    return new Promise<SipResponse>((resolve, reject) => {
      let done = false;
      const finish = (branch: string | undefined, outcome: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (branch !== undefined) this.transactions.delete(branch);
        outcome();
      };
      const timer = setTimeout(() => finish(message.branch, () => reject(new SipRequestTimeout(method))), timeoutMs ?? this.options.requestTimeoutMs ?? 30_000);
      const user: Core.ClientTransactionUser = {
        loggerFactory: this.loggerFactory,
        receiveResponse: (response) => {
          const status = response.statusCode ?? 0;
          if (status < 200) return;
          let raw: RawMessage;
          try {
            raw = parseRawMessage(response.data);
          } catch (error) {
            finish(message.branch, () => reject(error));
            return;
          }
          finish(message.branch, () => resolve({ status, reason: response.reasonPhrase ?? '', raw, message: response, cseq: message.cseq }));
        },
        onRequestTimeout: () => finish(message.branch, () => reject(new SipRequestTimeout(method))),
        onTransportError: (error) => finish(message.branch, () => reject(error)),
      };
      try {
        const transaction = new Core.NonInviteClientTransaction(message, this.transportForTransactions(), user);
        this.transactions.set(transaction.id, { transaction, fail: (error) => finish(transaction.id, () => reject(error)) });
      } catch (error) {
        finish(undefined, () => reject(error));
      }
    });
  }

  /**
   * Sends an INVITE through a sip.js INVITE client transaction and resolves
   * with its final response; non-2xx answers are ACKed by the transaction,
   * a 2xx must be ACKed by the caller with `ack()` (RFC 3261 13.2.2.4).
   */
  invite(ruri: string, options: RequestOptions = {}): Promise<SipResponse & { request: Core.OutgoingRequestMessage }> {
    let message: Core.OutgoingRequestMessage;
    try {
      message = this.build('INVITE', ruri, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      let done = false;
      const finish = (outcome: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (message.branch !== undefined) this.transactions.delete(message.branch);
        outcome();
      };
      const timer = setTimeout(() => finish(() => reject(new SipRequestTimeout('INVITE'))), options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000);
      const user: Core.ClientTransactionUser = {
        loggerFactory: this.loggerFactory,
        receiveResponse: (response) => {
          const status = response.statusCode ?? 0;
          if (status < 200) return;
          let raw: RawMessage;
          try {
            raw = parseRawMessage(response.data);
          } catch (error) {
            finish(() => reject(error));
            return;
          }
          finish(() => resolve({ status, reason: response.reasonPhrase ?? '', raw, message: response, cseq: message.cseq, request: message }));
        },
        onRequestTimeout: () => finish(() => reject(new SipRequestTimeout('INVITE'))),
        onTransportError: (error) => finish(() => reject(error)),
      };
      try {
        const transaction = new Core.InviteClientTransaction(message, this.transportForTransactions(), user);
        this.transactions.set(transaction.id, { transaction, fail: (error) => finish(() => reject(error)) });
      } catch (error) {
        finish(() => reject(error));
      }
    });
  }

  /** ACK for a 2xx to INVITE: its own transaction, same CSeq number (RFC 3261 13.2.2.4). */
  ack(remoteTarget: string, options: RequestOptions & { cseq: number }): Promise<void> {
    const message = this.build('ACK', remoteTarget, options);
    return this.options.transport.send(message.toString());
  }

  /** Answers an incoming request (signed like every other message). */
  respond(
    request: IncomingRequest,
    status: number,
    reason: string,
    extraHeaders: string[] = [],
    extra: { body?: { contentType: string; content: string }; toTag?: string } = {},
  ): Promise<void> {
    const response = Core.constructOutgoingResponse(request.message, {
      statusCode: status,
      reasonPhrase: reason,
      userAgent: this.options.userAgent,
      extraHeaders,
      toTag: extra.toTag,
      body: extra.body ? { contentDisposition: 'render', contentType: extra.body.contentType, content: extra.body.content } : undefined,
    });
    return this.options.transport.send(response.message);
  }

  /** Fails every open transaction (the connection is gone). */
  abortAll(): void {
    this.failAll(new Core.TransportError('Connection closed'));
  }

  private failAll(error: Error): void {
    const open = [...this.transactions.values()];
    this.transactions.clear();
    for (const entry of open) {
      entry.fail(error);
      entry.transaction.dispose();
    }
  }

  private transportForTransactions(): Core.Transport {
    const transport = this.options.transport;
    return { protocol: transport.protocol, send: (text: string) => transport.send(text) };
  }

  private receive(text: string): void {
    let raw: RawMessage;
    try {
      raw = parseRawMessage(text);
    } catch (error) {
      this.options.log.warn(`Ignoring a malformed SIP message from the server: ${(error as Error).message}`);
      return;
    }
    if (this.security) {
      let verdict: 'accept' | 'ignore';
      try {
        verdict = this.security.verify(raw);
      } catch (error) {
        this.failAll(error as Error);
        this.onIntegrityError?.(error as Error);
        return;
      }
      if (verdict === 'ignore') {
        this.options.log.debug(`Ignoring an unsigned SIP message: ${raw.startLine}`);
        return;
      }
    }
    let message: Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined;
    try {
      message = Core.Parser.parseMessage(text, this.sipLogger);
    } catch (error) {
      // sip.js' parser throws on some malformed headers instead of returning nothing.
      this.options.log.warn(`Ignoring a SIP message sip.js could not parse (${(error as Error).message}): ${raw.startLine.slice(0, 80)} CSeq ${JSON.stringify(headerValue(raw, 'CSeq'))}`);
      return;
    }
    if (!message) {
      this.options.log.warn(`Ignoring a SIP message sip.js could not parse: ${raw.startLine.slice(0, 80)}`);
      return;
    }
    if (message instanceof Core.IncomingResponseMessage) {
      if (statusCode(raw) === undefined) return;
      const entry = this.transactions.get(message.viaBranch);
      if (entry) entry.transaction.receiveResponse(message);
      else this.options.log.debug(`Response to an unknown transaction: ${raw.startLine}`);
      return;
    }
    this.onRequest?.({ raw, message });
  }
}
