import type { ErrorRequestHandler, Request, Response } from 'express';
import { WebhookError, validationFailed } from '../../src/errors.js';
import { isJsonContentType, payloadTooLarge } from '../../src/http/body.js';
import { errorResponse, requestIdFor } from '../../src/http/envelope.js';
import { firstSegment } from '../../src/http/path.js';
import { ROUTES } from '../../src/http/route-table.js';
import type { HttpResponse } from '../../src/http/types.js';

/** The first path segments the router answers under (`webhooks`, `event-types`). */
const NAMESPACES: ReadonlySet<string> = new Set(ROUTES.map((route) => route.path.split('/')[1] as string));

/** The router's own rule: every method but OPTIONS under one of its namespaces. */
function isWebhookRoute(method: string, path: string): boolean {
  if (method === 'OPTIONS') return false;
  const first = firstSegment(path);
  return first !== null && NAMESPACES.has(first);
}

/** The `type` body-parser (`express.json()`, `.raw()`, `.text()`, `.urlencoded()`) gives each way reading a body fails. */
const BODY_ERROR_TYPES: ReadonlySet<string> = new Set([
  'entity.parse.failed',
  'entity.too.large',
  'charset.unsupported',
  'encoding.unsupported',
  'parameters.too.many',
  'request.aborted',
  'request.size.invalid',
]);

interface BodyError {
  type?: string;
  body?: unknown;
  limit?: unknown;
}

/**
 * An error from reading the body: one of body-parser's, or zlib's when a compressed body does not
 * inflate. A host `verify` callback refusing a body, or any other error, is not one.
 */
function isBodyError(error: unknown): error is BodyError {
  if (typeof error !== 'object' || error === null) return false;
  const { type, code } = error as { type?: unknown; code?: unknown };
  return (typeof type === 'string' && BODY_ERROR_TYPES.has(type)) || (typeof code === 'string' && code.startsWith('Z_'));
}

/** True when `text` is JSON (that a strict `express.json()` refused for not being an object or array). */
function isJson(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The error the router raises for the same request when it reads the body itself, checked in its
 * order (size, media type, encoding, JSON), so a host parser in front changes nothing for callers.
 */
function asRouterError(error: BodyError, req: Request): WebhookError {
  // The host's limit refused it: the answer names that limit, the one the caller ran into.
  if (error.type === 'entity.too.large') return payloadTooLarge(typeof error.limit === 'number' ? error.limit : 0);
  if (!isJsonContentType(header(req, 'content-type'))) return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  const encoding = header(req, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'compressed request bodies are not accepted');
  }
  if (error.type === 'entity.parse.failed') {
    // `express.json()` is strict by default: it refuses `42` or `"x"`, which the router parses and
    // then refuses as input (every route that takes a body takes an object).
    return isJson(error.body) ? validationFailed({ body: 'must be a JSON object' }) : new WebhookError('BAD_REQUEST', 'request body is not valid JSON');
  }
  return new WebhookError('BAD_REQUEST', 'request body could not be read');
}

/** Nothing this handler answers is an unexpected error, so nothing is logged. */
const QUIET = { error: (): void => undefined };

function send(res: Response, response: HttpResponse): void {
  res.status(response.status);
  for (const name in response.headers) res.setHeader(name, response.headers[name] as string);
  res.setHeader('content-length', Buffer.byteLength(response.body));
  res.end(response.body);
}

/**
 * An Express error handler for hosts that parse bodies before the router
 * (`app.use(express.json())`): a body that parser refuses on the API's routes is answered with
 * the API's JSON error envelope, with the status the router gives the same body when it reads it
 * itself (malformed JSON 400, too large 413, another charset or a compressed body 415), instead
 * of Express's HTML page. Mount it after the router, at the same path:
 *
 * ```ts
 * app.use(express.json());
 * app.use('/v1', webhookRouter(hooks, { authenticate }));
 * app.use('/v1', webhookErrorHandler());
 * ```
 *
 * Errors on the host's other routes, and errors that are not about reading the body (a `verify`
 * callback's, say), are passed on (`next(error)`) untouched. The answer comes before
 * authentication, as the host parser's did.
 */
export function webhookErrorHandler(): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent || !isBodyError(error) || !isWebhookRoute(req.method, req.path)) {
      next(error);
      return;
    }
    const known = asRouterError(error, req);
    send(res, errorResponse(known, requestIdFor(req.headers['x-request-id']), QUIET, { method: req.method, path: req.path }));
  };
}
