/**
 * What went wrong with one X API request, in the terms the plugin acts on:
 * wait (rate-limited), sign in again (unauthorized), give up on one endpoint
 * (forbidden), reconnect (network), or report and try again later.
 * twitter-api-v2 throws three error classes; they are told apart by `type`
 * because the core and the library may come from different copies.
 */
import { defineErrorCodes, isCertificateErrorCode, ParleyError } from '@parley/core';
import { ApiPartialResponseError, ApiRequestError, ApiResponseError } from 'twitter-api-v2';
import { PayloadError } from './payload.js';
import { readRateWindow } from './rate-limit.js';

/** What kind of failure an `XApiError` is, which decides what the plugin does next (see the module comment). */
export type XFailureKind = 'rate-limited' | 'unauthorized' | 'forbidden' | 'network' | 'certificate' | 'malformed' | 'server' | 'rejected';

/** Every code the X plugin's errors carry: `x-` and the failure kind, or `x-payload-invalid`. */
export type XErrorCode = `x-${XFailureKind}` | 'x-payload-invalid';

/** Every code the X plugin's own errors carry. */
export const X_ERROR_CODES = defineErrorCodes<XErrorCode>({
  'x-rate-limited': { class: 'XApiError', fatal: false, when: 'The API rate limit for an endpoint is spent; resetAt says when it refills.', action: 'Nothing: the plugin waits for the window to reset.' },
  'x-unauthorized': { class: 'XApiError', fatal: true, when: 'The API refused the credentials (a revoked or expired token).', action: 'Sign in to X again for this account.' },
  'x-forbidden': { class: 'XApiError', fatal: true, when: "The app's access level does not include the endpoint (DMs, posting).", action: "Use an X app with the access the feature needs; the rest of the account keeps working." },
  'x-network': { class: 'XApiError', fatal: false, when: 'The API could not be reached or the connection closed during a response.', action: 'Nothing: the plugin retries.' },
  'x-certificate': { class: 'XApiError', fatal: true, when: "The API server's TLS certificate is not trusted.", action: 'Check the network (a proxy intercepting TLS), or trust the certificate when asked.' },
  'x-malformed': { class: 'XApiError', fatal: false, when: 'A response is not what the API reference describes.', action: 'Nothing: the response is ignored; report it if it repeats.' },
  'x-server': { class: 'XApiError', fatal: false, when: 'The API failed with a 5xx status.', action: 'Nothing: the plugin retries later.' },
  'x-rejected': { class: 'XApiError', fatal: true, when: 'The API refused a request (a post too long, a user that does not exist); serverText has its words.', action: 'Change the request as the message says.' },
  'x-payload-invalid': { class: 'PayloadError', fatal: false, when: 'A response body is not the shape the API reference describes.', action: 'Nothing: it is reported as x-malformed.' },
});

/**
 * A failed X API request, as the plugin reports it: `code` is `x-` and the
 * kind; `details` carries what the API said.
 */
export class XApiError extends ParleyError {
  declare readonly code: `x-${XFailureKind}`;
  constructor(
    /** The failure kind, `code` without its `x-`. */
    readonly kind: XFailureKind,
    /** "GET /2/users/:id/mentions" */
    readonly endpoint: string,
    message: string,
    /** What is known of the failure beyond its kind. */
    readonly details: {
      /** The HTTP status of the answer, when there was one. */
      status?: number;
      /** The server's own title/detail, shown verbatim. */
      serverText?: string;
      /** Epoch ms when a spent rate-limit window resets. */
      resetAt?: number;
      /** Node's code for network and certificate failures. */
      errorCode?: string;
      /** The library's own error, kept as the cause. */
      cause?: unknown;
    } = {},
  ) {
    super(`x-${kind}`, message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

function problemText(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return typeof data === 'string' && data.length < 500 ? data : undefined;
  const d = data as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d.title === 'string') parts.push(d.title);
  if (typeof d.detail === 'string' && d.detail !== d.title) parts.push(d.detail);
  if (parts.length === 0 && Array.isArray(d.errors)) {
    for (const e of d.errors) if (typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>).message === 'string') parts.push((e as Record<string, string>).message);
  }
  if (parts.length === 0 && typeof d.error_description === 'string') parts.push(d.error_description);
  const text = parts.join(': ');
  return text === '' ? undefined : text.slice(0, 1000);
}

function nodeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Maps whatever a request threw to an XApiError naming the endpoint. */
export function classify(err: unknown, endpoint: string): XApiError {
  if (err instanceof XApiError) return err;
  if (err instanceof PayloadError) return new XApiError('malformed', endpoint, `${endpoint}: ${err.message}`, { cause: err });
  if (err instanceof ApiResponseError || (err as { type?: unknown })?.type === 'response') {
    const e = err as ApiResponseError;
    const status = e.code;
    const serverText = problemText(e.data);
    const base = { status, serverText, cause: err };
    if (status === 429) {
      const window = readRateWindow(e.headers as Record<string, string>);
      return new XApiError('rate-limited', endpoint, `${endpoint}: rate limit reached`, { ...base, resetAt: window?.resetAt });
    }
    if (status === 401) return new XApiError('unauthorized', endpoint, `${endpoint}: ${serverText ?? 'Unauthorized'}`, base);
    if (status === 403) return new XApiError('forbidden', endpoint, `${endpoint}: ${serverText ?? 'Forbidden'}`, base);
    if (status >= 500) return new XApiError('server', endpoint, `${endpoint}: the server failed (HTTP ${status}${serverText ? `, ${serverText}` : ''})`, base);
    return new XApiError('rejected', endpoint, `${endpoint}: ${serverText ?? `HTTP ${status}`}`, base);
  }
  if (err instanceof ApiPartialResponseError || (err as { type?: unknown })?.type === 'partial-response') {
    const e = err as ApiPartialResponseError;
    // A body that ended early is a broken connection; one that arrived whole but unreadable is malformed.
    if (/abruptly closed/.test(e.message)) return new XApiError('network', endpoint, `${endpoint}: the connection closed during the response`, { cause: err });
    return new XApiError('malformed', endpoint, `${endpoint}: the server sent a response that is not valid JSON`, { status: e.response?.statusCode, cause: err });
  }
  if (err instanceof ApiRequestError || (err as { type?: unknown })?.type === 'request') {
    // twitter-api-v2 leaves `requestError` empty; the socket error is in `_options.error`.
    const inner = (err as { _options?: { error?: unknown } })._options?.error ?? (err as ApiRequestError).requestError;
    const code = nodeCode(inner);
    const message = inner instanceof Error ? inner.message : 'request failed';
    if (isCertificateErrorCode(code)) return new XApiError('certificate', endpoint, `${endpoint}: ${message}`, { errorCode: code, cause: inner });
    return new XApiError('network', endpoint, `${endpoint}: ${message}`, { errorCode: code, cause: inner });
  }
  const code = nodeCode(err);
  if (code !== undefined && isCertificateErrorCode(code)) return new XApiError('certificate', endpoint, `${endpoint}: ${String((err as Error).message)}`, { errorCode: code, cause: err });
  if (err instanceof SyntaxError) return new XApiError('malformed', endpoint, `${endpoint}: ${err.message}`, { cause: err });
  return new XApiError('network', endpoint, `${endpoint}: ${err instanceof Error ? err.message : String(err)}`, { errorCode: code, cause: err });
}
