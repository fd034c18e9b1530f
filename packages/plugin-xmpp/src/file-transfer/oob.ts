import { pipeline } from 'node:stream/promises';
import { openTransferSink, parseHttpUrl, TransferError, type FileTarget, type IncomingFileOffer, type Net } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { drain, httpRequestVia } from './http.js';
import { NS_OOB } from './namespaces.js';

/** The `<x xmlns='jabber:x:oob'>` that goes with an uploaded file's link (XEP-0066 §3, as XEP-0363 §3 suggests). */
export function oobElement(url: string, description?: string): Element {
  return xml('x', { xmlns: NS_OOB }, xml('url', {}, url), ...(description === undefined || description === '' ? [] : [xml('desc', {}, description)]));
}

/** A link a message carries, when it is an http(s) URL: what the user is offered to download. */
export function readOobLink(message: Element): { url: URL; description?: string } | undefined {
  const x = message.getChild('x', NS_OOB);
  const text = x?.getChildText('url')?.trim();
  if (text === undefined || text === '' || text.length > 4096) return undefined;
  const url = parseHttpUrl(text);
  if (url === undefined) return undefined;
  const description = x?.getChildText('desc')?.trim();
  return description === undefined || description === '' ? { url } : { url, description };
}

/** The name a link proposes: its last path segment, decoded (the core makes it safe). */
export function nameFromUrl(url: URL): string {
  const last = url.pathname.split('/').filter((s) => s !== '').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function oobOffer(id: string, peer: string, link: { url: URL; description?: string }): IncomingFileOffer {
  return {
    id,
    peer,
    name: nameFromUrl(link.url) || 'download',
    origin: link.url.href,
    ...(link.description === undefined ? {} : { description: link.description }),
  };
}

/**
 * Downloads an accepted link into the core's temporary file, streamed
 * through the core's network layer, never past `target.maxBytes`.
 */
export async function downloadLink(net: Net, url: URL, target: FileTarget, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<number> {
  const response = await httpRequestVia(net, 'GET', url, {}, signal);
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    await drain(response);
    throw new TransferError('transfer-failed', `${url.host} answered HTTP ${status} for the file`);
  }
  const announced = Number(response.headers['content-length']);
  if (Number.isSafeInteger(announced) && announced > target.maxBytes) {
    response.destroy();
    throw new TransferError('transfer-too-large', `The file is ${announced} bytes, more than the ${target.maxBytes} allowed`);
  }
  const sink = openTransferSink(target, onProgress);
  await pipeline(response, sink, { signal });
  if (Number.isSafeInteger(announced) && sink.bytes !== announced) {
    throw new TransferError('transfer-incomplete', `The download stopped after ${sink.bytes} of ${announced} bytes`);
  }
  return sink.bytes;
}
