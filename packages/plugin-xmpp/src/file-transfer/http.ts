import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { TransferError, type Net } from '@parley/core';

/** An HTTP(S) request through the core's network layer (its proxy, its certificate checks and the user's trust decisions). */
export function httpRequestVia(net: Net, method: 'GET' | 'PUT', url: URL, headers: OutgoingHttpHeaders, signal: AbortSignal, body?: Readable): Promise<IncomingMessage> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return Promise.reject(new TransferError('transfer-failed', `Parley only fetches http: and https: links, not ${url.protocol}`));
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: net.agentFor(url), signal }, resolve);
    req.once('error', (error: Error) => reject(transferErrorOf(error, url)));
    if (body === undefined) req.end();
    else {
      body.once('error', (error) => req.destroy(error));
      body.pipe(req);
    }
  });
}

function transferErrorOf(error: Error, url: URL): Error {
  // A certificate the user did not trust, a proxy refusing: the core's ConnectionError says it best.
  if ((error as { code?: unknown }).code !== undefined && error.name === 'ConnectionError') return error;
  if (error instanceof TransferError) return error;
  if (error.name === 'AbortError') return new TransferError('transfer-failed', 'The transfer was cancelled', { cause: error });
  return new TransferError('transfer-failed', `HTTP request to ${url.host} failed: ${error.message}`, { cause: error });
}

/** Reads and discards a response body (an error page), bounded. */
export async function drain(response: IncomingMessage, limit = 4096): Promise<string> {
  let text = '';
  for await (const chunk of response) {
    if (text.length < limit) text += String(chunk).slice(0, limit - text.length);
  }
  return text;
}
