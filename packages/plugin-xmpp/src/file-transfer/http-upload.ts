import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { parseHttpUrl, TransferError, type Net, type OutgoingFile } from '@parley/core';
import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { NS_DISCO_INFO } from '../disco.js';
import type { Session } from '../session.js';
import { drain, httpRequestVia } from './http.js';
import { NS_DATA_FORMS, NS_HTTP_UPLOAD } from './namespaces.js';

/** The server's XEP-0363 upload service. */
export interface UploadService {
  jid: string;
  /** The largest file it takes, when it says (§4: the max-file-size form field). */
  maxSize?: number;
}

/** Where a file goes (§5): PUT here with these headers, then the peer GETs `get`. */
export interface UploadSlot {
  put: URL;
  get: URL;
  headers: Record<string, string>;
}

/** The only headers a slot may ask for (§6): others are dropped, and no header may carry a line break. */
const ALLOWED_HEADERS = new Set(['authorization', 'cookie', 'expires']);

/** The upload service among the server's items (§4), undefined when there is none. */
export async function findUploadService(session: Session, domain: string, items: readonly string[]): Promise<UploadService | undefined> {
  for (const jid of [domain, ...items]) {
    let query: Element | undefined;
    try {
      query = await session.iqGet(xml('query', { xmlns: NS_DISCO_INFO }), jid, 10_000);
    } catch {
      continue;
    }
    const features = (query?.getChildren('feature') ?? []).map((f) => f.attrs.var as unknown);
    if (!features.includes(NS_HTTP_UPLOAD)) continue;
    return { jid, ...maxSizeOf(query) };
  }
  return undefined;
}

function maxSizeOf(query: Element | undefined): { maxSize?: number } {
  for (const form of query?.getChildren('x', NS_DATA_FORMS) ?? []) {
    const fields = form.getChildren('field');
    const type = fields.find((f) => f.attrs.var === 'FORM_TYPE')?.getChildText('value');
    if (type !== NS_HTTP_UPLOAD) continue;
    const max = Number(fields.find((f) => f.attrs.var === 'max-file-size')?.getChildText('value'));
    if (Number.isSafeInteger(max) && max > 0) return { maxSize: max };
  }
  return {};
}

/** Asks the service for a slot (§5). Refusals (too large, quota) become a TransferError with the server's words. */
export async function requestSlot(session: Session, service: UploadService, file: Pick<OutgoingFile, 'name' | 'size' | 'mimeType'>): Promise<UploadSlot> {
  const request = xml('request', { xmlns: NS_HTTP_UPLOAD, filename: file.name, size: String(file.size), 'content-type': file.mimeType ?? 'application/octet-stream' });
  let reply: Element;
  try {
    reply = await session.iqReply('get', request, service.jid, 30_000);
  } catch (error) {
    const text = (error as { text?: unknown }).text;
    const condition = (error as { condition?: unknown }).condition;
    const code = condition === 'not-acceptable' || condition === 'resource-constraint' ? 'transfer-too-large' : 'transfer-failed';
    throw new TransferError(code, `The upload service refused the file${typeof text === 'string' && text !== '' ? `: ${text}` : typeof condition === 'string' ? ` (${condition})` : ''}`, { cause: error });
  }
  return parseSlot(reply.getChild('slot', NS_HTTP_UPLOAD));
}

/** Reads a `<slot/>`: both URLs HTTPS or HTTP, headers filtered as §6 requires. */
export function parseSlot(slot: Element | undefined): UploadSlot {
  const put = slot?.getChild('put');
  const get = slot?.getChild('get');
  const putUrl = safeUrl(put?.attrs.url);
  const getUrl = safeUrl(get?.attrs.url);
  if (putUrl === undefined || getUrl === undefined) throw new TransferError('transfer-failed', 'The upload service answered without usable upload and download links');
  const headers: Record<string, string> = {};
  for (const header of put?.getChildren('header') ?? []) {
    const name = String(header.attrs.name ?? '');
    const value = header.getText();
    if (ALLOWED_HEADERS.has(name.toLowerCase()) && !/[\r\n]/.test(value)) headers[name] = value;
  }
  return { put: putUrl, get: getUrl, headers };
}

function safeUrl(value: unknown): URL | undefined {
  return typeof value === 'string' ? parseHttpUrl(value) : undefined;
}

/**
 * PUTs the file to the slot, streamed from disk (never whole in memory),
 * through the core's network layer. `onProgress` sees the bytes written so far.
 */
export async function uploadFile(net: Net, slot: UploadSlot, file: Pick<OutgoingFile, 'path' | 'size' | 'mimeType'>, signal: AbortSignal, onProgress: (bytes: number) => void): Promise<void> {
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      onProgress(sent);
      callback(null, chunk);
    },
  });
  const source = createReadStream(file.path, { highWaterMark: 256 * 1024 });
  source.once('error', (error) => counter.destroy(new TransferError('transfer-file-unreadable', `Cannot read ${file.path}: ${error.message}`, { cause: error })));
  source.pipe(counter);
  const response = await httpRequestVia(
    net,
    'PUT',
    slot.put,
    { ...slot.headers, 'content-length': String(file.size), 'content-type': file.mimeType ?? 'application/octet-stream' },
    signal,
    counter,
  );
  const status = response.statusCode ?? 0;
  const body = await drain(response);
  if (status < 200 || status >= 300) {
    throw new TransferError(status === 413 ? 'transfer-too-large' : 'transfer-failed', `The upload service answered HTTP ${status}${body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`}`);
  }
  if (sent !== file.size) throw new TransferError('transfer-failed', `The file changed while it was sent (${sent} of ${file.size} bytes)`);
}
