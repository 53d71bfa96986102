import { ERROR_STATUS, type ErrorDetails, WebhookError, type WebhookErrorCode, describeThrown, isWebhookError } from '../errors.js';
import { newUlid } from '../ids.js';
import type { Logger } from '../logger.js';
import { setDetail } from '../validation/issues.js';
import type { HttpResponse } from './types.js';

/** A caller's own request id is echoed only when it is short and plain enough to log and return safely. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** The caller's `X-Request-Id` when sane, otherwise a fresh ULID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : newUlid();
}

/** Headers every response carries; `no-store` because create and rotate responses hold secrets. */
export function baseHeaders(requestId: string): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-request-id': requestId,
  };
}

/** An answer whose body is already serialized JSON. */
export function jsonResponse(status: number, requestId: string, json: string): HttpResponse {
  return { status, headers: baseHeaders(requestId), body: json };
}

/**
 * The error as a `WebhookError`, also when it comes from another copy of hookrelay's code (a host
 * loading the core as ESM and an adapter as CommonJS gets two classes), so that `instanceof`
 * failing never turns a 404 into a 500.
 */
function asWebhookError(error: unknown): WebhookError | null {
  if (isWebhookError(error)) return error;
  if (!(error instanceof Error) || error.name !== 'WebhookError') return null;
  const { code, details } = error as Error & { code?: unknown; details?: unknown };
  if (typeof code !== 'string' || !Object.hasOwn(ERROR_STATUS, code)) return null;
  return new WebhookError(code as WebhookErrorCode, error.message, details ? { details: details as ErrorDetails } : {});
}

/**
 * The seed's envelope: `{ success: false, error: { code, message, request_id, details? } }`.
 * Anything that is not a `WebhookError` is a bug: it is logged with the request id, and the
 * caller sees only `INTERNAL`, never a message, stack or cause.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  logger: Pick<Logger, 'error'>,
  context: { method: string; path: string },
  renameDetail: (field: string) => string = (field) => field,
): HttpResponse {
  let known = asWebhookError(error);
  if (known) {
    if (known.code === 'INTERNAL') logUnexpected(logger, error, requestId, context);
  } else {
    logUnexpected(logger, error, requestId, context);
    known = new WebhookError('INTERNAL', 'internal error');
  }
  const body: { code: string; message: string; request_id: string; details?: Record<string, string> } = {
    code: known.code,
    message: known.code === 'INTERNAL' ? 'internal error' : known.message,
    request_id: requestId,
  };
  if (known.details) {
    const details: Record<string, string> = {};
    for (const [field, reason] of Object.entries(known.details)) setDetail(details, renameDetail(field), reason);
    body.details = details;
  }
  const response = jsonResponse(known.status, requestId, JSON.stringify({ success: false, error: body }));
  if (known.status === 413) {
    // The rest of an oversized body is never read; closing keeps it from being parsed as the next request.
    response.headers.connection = 'close';
  }
  return response;
}

function logUnexpected(logger: Pick<Logger, 'error'>, error: unknown, requestId: string, context: { method: string; path: string }): void {
  const err =
    error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { name: typeof error, message: describeThrown(error) };
  logger.error({ err, requestId, method: context.method, path: context.path }, 'hookrelay http: unexpected error');
}
