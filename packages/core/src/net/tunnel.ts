import { request as httpRequest } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { SocksClient, type SocksProxy } from 'socks';
import { ConnectionError } from '../errors/ConnectionError.js';
import { describeProxy, type ProxyServer } from './proxy.js';

/** Where a tunnel goes: the destination as the plugin named it, or an address resolved here. */
export interface TunnelTarget {
  host: string;
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** The proxy itself could not be reached or dropped the link before answering. */
function unreachable(server: ProxyServer, detail: string, cause?: unknown): ConnectionError {
  return new ConnectionError('proxy-unreachable', `Cannot reach the ${describeProxy(server)}: ${detail}`, { cause, hint: 'Check the proxy setting and that the proxy runs' });
}

function authFailed(server: ProxyServer, serverText: string, protocolDetail: string | number): ConnectionError {
  return new ConnectionError('proxy-authentication-failed', `The ${describeProxy(server)} refused the user name or password`, {
    serverText,
    protocolDetail,
    hint: 'Check the proxy user name and password',
  });
}

/** SOCKS5 reply codes (RFC 1928 section 6) and SOCKS4 ones, as the `socks` library names them. */
const SOCKS_DESTINATION_UNREACHABLE = new Set(['NetworkUnreachable', 'HostUnreachable', 'ConnectionRefused', 'TTLExpired', 'Failure', 'Failed']);

/** Maps what the `socks` library reports to the reason the user sees, keeping the proxy's reply verbatim. */
function socksError(server: ProxyServer, target: TunnelTarget, error: unknown): ConnectionError {
  const message = error instanceof Error ? error.message : String(error);
  const destination = `${target.host}:${target.port}`;
  if (/Authentication failed|no accepted authentication type/i.test(message)) return authFailed(server, message, 'SOCKS');
  const rejected = /rejected connection - \(?(\w+)\)?/.exec(message);
  if (rejected !== null) {
    const reply = rejected[1]!;
    if (SOCKS_DESTINATION_UNREACHABLE.has(reply)) {
      return new ConnectionError('proxy-destination-unreachable', `The ${describeProxy(server)} could not reach ${destination} (${reply})`, { serverText: reply, protocolDetail: reply, cause: error });
    }
    return new ConnectionError('proxy-refused', `The ${describeProxy(server)} refused the connection to ${destination} (${reply})`, {
      serverText: reply,
      protocolDetail: reply,
      cause: error,
      hint: 'The proxy does not allow this destination',
    });
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return unreachable(server, `${message}`, error);
  if (/timed out/i.test(message)) return unreachable(server, 'no answer in time', error);
  if (/Socket closed/i.test(message)) return unreachable(server, 'it closed the connection during the handshake', error);
  return unreachable(server, message, error);
}

async function socksTunnel(server: ProxyServer, target: TunnelTarget): Promise<Socket> {
  const proxy: SocksProxy = { host: server.host, port: server.port, type: server.scheme === 'socks4' ? 4 : 5 };
  if (server.username !== undefined) proxy.userId = server.username;
  if (server.password !== undefined) proxy.password = server.password;
  try {
    const { socket } = await SocksClient.createConnection({
      proxy,
      command: 'connect',
      destination: { host: target.host, port: target.port },
      timeout: target.timeoutMs,
    });
    return socket;
  } catch (error) {
    throw socksError(server, target, error);
  }
}

/** HTTP CONNECT (RFC 9110 section 9.3.6) through Node's HTTP client, with Basic credentials. */
function httpTunnel(server: ProxyServer, target: TunnelTarget): Promise<Socket> {
  const authority = `${isIP(target.host) === 6 ? `[${target.host}]` : target.host}:${target.port}`;
  const headers: Record<string, string> = { host: authority };
  if (server.username !== undefined) {
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${server.username}:${server.password ?? ''}`).toString('base64')}`;
  }
  return new Promise<Socket>((resolve, reject) => {
    const req = httpRequest({ host: server.host, port: server.port, method: 'CONNECT', path: authority, headers, agent: false, setHost: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(unreachable(server, 'no answer in time'));
    }, target.timeoutMs);
    timer.unref();
    req.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      const statusLine = `${status} ${res.statusMessage ?? ''}`.trim();
      if (status === 200) {
        // Bytes the destination sent right after the proxy's answer belong to the stream.
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
        return;
      }
      socket.destroy();
      if (status === 407 || status === 401) reject(authFailed(server, statusLine, status));
      else if (status === 502 || status === 503 || status === 504 || status === 500) {
        reject(new ConnectionError('proxy-destination-unreachable', `The ${describeProxy(server)} could not reach ${authority}: ${statusLine}`, { serverText: statusLine, protocolDetail: status }));
      } else {
        reject(new ConnectionError('proxy-refused', `The ${describeProxy(server)} refused the connection to ${authority}: ${statusLine}`, { serverText: statusLine, protocolDetail: status, hint: 'The proxy does not allow this destination' }));
      }
    });
    req.once('response', (res) => {
      // A server that answers CONNECT with a normal response is not an HTTP proxy.
      clearTimeout(timer);
      res.destroy();
      reject(unreachable(server, `it answered ${res.statusCode ?? '?'} to CONNECT`));
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(unreachable(server, error.code ?? error.message, error));
    });
    req.end();
  });
}

/**
 * A TCP stream to `target` through `server`. The proxy protocols are the
 * `socks` library's and Node's HTTP client's; failures come back as the
 * proxy-* reasons with the proxy's own reply kept verbatim.
 */
export async function openTunnel(server: ProxyServer, target: TunnelTarget): Promise<Socket> {
  const pending = server.scheme === 'http' ? httpTunnel(server, target) : socksTunnel(server, target);
  if (target.signal === undefined) return pending;
  const signal = target.signal;
  if (signal.aborted) throw ConnectionError.other('Connection attempt was cancelled');
  return new Promise<Socket>((resolve, reject) => {
    const onAbort = () => reject(ConnectionError.other('Connection attempt was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (socket) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) socket.destroy();
        else resolve(socket);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
