import { InvalidOptionsError, WebhookError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { WebhookService } from '../service.js';
import { hasUnstorableText } from '../validation/text.js';
import { DEFAULT_BODY_LIMIT, parseJsonBody } from './body.js';
import { errorResponse, jsonResponse, requestIdFor } from './envelope.js';
import { type Route, ROUTES } from './route-table.js';
import type { HttpResponse, Principal, RouteRequest, WebhookHttpOptions, WireFormat } from './types.js';
import { Wire } from './wire-format.js';

export const DEFAULT_SCOPES = { read: 'webhooks:read', write: 'webhooks:write' } as const;
const MAX_ORG_ID_LENGTH = 255;

/** One route of the REST API, for an adapter to register with its framework's router. */
export interface ApiRoute<Req> {
  method: Route['method'];
  /** Below the mount point; `:name` captures one non-empty segment. */
  path: string;
  /** False when the route never reads a body (GET, DELETE). */
  takesBody: boolean;
  /** Authenticates, checks the scope, reads the body and runs the route. Never rejects: every failure is the error envelope. */
  answer(request: RouteRequest<Req>): Promise<HttpResponse>;
}

/** A path of the route table and the methods it answers; any other method there is 405 with `Allow`. */
export interface ApiPath {
  path: string;
  /** In table order, HEAD after GET's routes where there is a GET. */
  allow: readonly string[];
  /** The 405 answer, before credentials are checked (404 for an empty parameter, as on the routes). */
  refuse(request: Pick<RouteRequest<unknown>, 'method' | 'headers' | 'params'>): HttpResponse;
}

/**
 * The REST API described once, for adapters to register natively: the routes, the methods each
 * path refuses, and the path prefixes under which an unknown path is the API's 404. Routing,
 * parameters and reading the body are the framework's; authentication, scopes, JSON rules,
 * validation and the error envelope are the same on every framework.
 */
export interface WebhookApi<Req> {
  readonly routes: readonly ApiRoute<Req>[];
  readonly paths: readonly ApiPath[];
  /** The first segments the API answers under (`/webhooks`, `/event-types`); OPTIONS under them stays the host's. */
  readonly namespaces: readonly string[];
  /** The 404 for a path under a namespace that names no route (also one with a malformed escape), before credentials. */
  notFound(headers: RouteRequest<unknown>['headers']): HttpResponse;
  /** Largest accepted request body in bytes. */
  readonly bodyLimit: number;
}

const fallbackLogger: Pick<Logger, 'error'> = {
  error: (obj, msg) => console.error(msg, obj),
};

function validateOptions<Req>(options: WebhookHttpOptions<Req>): { format: WireFormat; read: string; write: string; bodyLimit: number } {
  const issues: { option: string; message: string }[] = [];
  if (typeof options?.authenticate !== 'function') issues.push({ option: 'authenticate', message: 'must be a function (request) => { orgId, scopes } | null' });
  const format = options?.format ?? 'snake_case';
  if (format !== 'snake_case' && format !== 'camelCase') issues.push({ option: 'format', message: "must be 'snake_case' or 'camelCase'" });
  const read = options?.scopes?.read ?? DEFAULT_SCOPES.read;
  const write = options?.scopes?.write ?? DEFAULT_SCOPES.write;
  if (typeof read !== 'string' || read === '') issues.push({ option: 'scopes.read', message: 'must be a non-empty string' });
  if (typeof write !== 'string' || write === '') issues.push({ option: 'scopes.write', message: 'must be a non-empty string' });
  const bodyLimit = options?.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1) issues.push({ option: 'bodyLimit', message: 'must be a positive integer (bytes)' });
  if (issues.length) throw new InvalidOptionsError(issues);
  return { format, read, write, bodyLimit };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A host bug surfaces as a logged 500 rather than as a request served for the wrong organization. */
function checkPrincipal(value: unknown): asserts value is Principal {
  const p = value as Partial<Principal>;
  const valid =
    typeof p === 'object' &&
    typeof p.orgId === 'string' &&
    p.orgId.length > 0 &&
    p.orgId.length <= MAX_ORG_ID_LENGTH &&
    // The service refuses such an org id with a 422 keyed `org_id`, which would blame the caller for the host's bug.
    !hasUnstorableText(p.orgId) &&
    Array.isArray(p.scopes) &&
    p.scopes.every((scope) => typeof scope === 'string');
  if (!valid) {
    throw new TypeError(
      `authenticate() must return { orgId: non-empty string (≤ ${MAX_ORG_ID_LENGTH}, no NUL or unpaired surrogate), scopes: string[] } or nothing`,
    );
  }
}

/** Some routers (Fastify's) let a parameter match an empty segment; the API's never do. */
function hasEmptyParam(params: Readonly<Record<string, string>>): boolean {
  for (const name in params) if (params[name] === '') return true;
  return false;
}

const routeNotFound = (): WebhookError => new WebhookError('NOT_FOUND', 'route not found');

/** The paths of the route table, each with its methods in table order (HEAD beside GET). */
function pathsOf(routes: readonly Route[]): { path: string; allow: string[] }[] {
  const byPath = new Map<string, string[]>();
  for (const route of routes) {
    const allow = byPath.get(route.path);
    if (allow) allow.push(route.method);
    else byPath.set(route.path, [route.method]);
  }
  return [...byPath].map(([path, allow]) => ({ path, allow: allow.includes('GET') ? [...allow, 'HEAD'] : allow }));
}

/** Builds the REST API over a `WebhookService`, for the Express router, the Fastify plugin or any other framework's router. */
export function webhookApi<Req>(service: WebhookService, options: WebhookHttpOptions<Req>): WebhookApi<Req> {
  const { format, read, write, bodyLimit } = validateOptions(options);
  const authenticate = options.authenticate;
  const wire = new Wire(format);
  const logger = service.options.logger ?? fallbackLogger;

  async function answer(route: Route, request: RouteRequest<Req>): Promise<HttpResponse> {
    const requestId = requestIdFor(request.headers['x-request-id']);
    try {
      if (hasEmptyParam(request.params)) throw routeNotFound();
      const returned = authenticate(request.native);
      // Most hosts authenticate synchronously (a token lookup in memory): no await, no extra turn.
      const principal = isPromiseLike(returned) ? await returned : returned;
      if (principal === null || principal === undefined) throw new WebhookError('UNAUTHORIZED', 'authentication failed');
      checkPrincipal(principal);
      if (!principal.scopes.includes(route.access === 'read' ? read : write)) {
        throw new WebhookError('FORBIDDEN', 'missing required scope');
      }
      let body: unknown;
      if (route.body !== 'none') {
        const raw = request.body();
        body = parseJsonBody(isPromiseLike(raw) ? await raw : raw, request.headers, bodyLimit);
      }
      const result = await route.run({ service, orgId: principal.orgId, params: request.params, query: request.query, body, wire });
      return jsonResponse(result.status, requestId, result.json);
    } catch (error) {
      return errorResponse(error, requestId, logger, { method: request.method, path: request.url });
    }
  }

  const notFound = (headers: RouteRequest<unknown>['headers']): HttpResponse =>
    errorResponse(routeNotFound(), requestIdFor(headers['x-request-id']), logger, { method: '', path: '' });
  const routes = ROUTES.map((route) => ({
    method: route.method,
    path: route.path,
    takesBody: route.body !== 'none',
    answer: (request: RouteRequest<Req>) => answer(route, request),
  }));
  const paths = pathsOf(ROUTES).map(({ path, allow }) => ({
    path,
    allow,
    refuse({ method, headers, params }: Pick<RouteRequest<unknown>, 'method' | 'headers' | 'params'>): HttpResponse {
      if (hasEmptyParam(params)) return notFound(headers);
      const error = new WebhookError('METHOD_NOT_ALLOWED', `method ${method.slice(0, 20)} not allowed`);
      const response = errorResponse(error, requestIdFor(headers['x-request-id']), logger, { method, path });
      response.headers.allow = allow.join(', ');
      return response;
    },
  }));
  const namespaces = [...new Set(ROUTES.map((route) => `/${route.path.split('/')[1] as string}`))];

  return { routes, paths, namespaces, notFound, bodyLimit };
}
