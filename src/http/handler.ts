import { hasUnstorableText } from '../endpoints.js';
import { WebhookError } from '../errors.js';
import type { Logger } from '../logger.js';
import { InvalidOptionsError } from '../options.js';
import type { WebhookService } from '../service.js';
import { DEFAULT_BODY_LIMIT, parseJsonBody } from './body.js';
import { errorResponse, jsonResponse, requestIdFor } from './envelope.js';
import { decodePath, firstSegment } from './path.js';
import { type Route, ROUTES } from './route-table.js';
import type { HttpRequest, HttpResponse, Principal, WebhookHttpOptions, WireFormat } from './types.js';
import { Wire } from './wire-format.js';

export const DEFAULT_SCOPES = { read: 'webhooks:read', write: 'webhooks:write' } as const;
const MAX_ORG_ID_LENGTH = 255;

/** The REST API as one framework-free function; the Express and Fastify adapters only translate to and from it. */
export interface WebhookHttpHandler<Req> {
  /** Answers one request. Never rejects: every failure becomes the error envelope. */
  handle(request: HttpRequest<Req>): Promise<HttpResponse>;
  /**
   * True for requests the API answers: paths under its own prefixes, any method but OPTIONS.
   * Adapters leave everything else to the host, so its CORS preflight handling keeps working.
   */
  owns(method: string, path: string): boolean;
  /** The methods adapters route to `handle` (every method but OPTIONS). */
  routedMethods(supported: readonly string[]): string[];
  /** The first path segments the API answers under (`webhooks`, `event-types`). */
  readonly namespaces: readonly string[];
  /** Largest accepted request body in bytes. */
  readonly bodyLimit: number;
}

interface CompiledRoute {
  route: Route;
  segments: readonly string[];
  /** Per segment, the parameter it captures (`id` for `:id`), or null for a literal segment. */
  params: readonly (string | null)[];
}

/** The params of routes without any: one shared object, never written to. */
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

type Match =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  | { kind: 'method'; allow: string[] }
  | { kind: 'none' };

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

/**
 * Builds the REST API over a `WebhookService`: routing, authentication, scopes, body parsing,
 * validation and the error envelope, identical for every framework that mounts it.
 */
export function createWebhookHandler<Req>(service: WebhookService, options: WebhookHttpOptions<Req>): WebhookHttpHandler<Req> {
  const { format, read, write, bodyLimit } = validateOptions(options);
  const authenticate = options.authenticate;
  const wire = new Wire(format);
  const logger = service.options.logger ?? fallbackLogger;
  const compiled: CompiledRoute[] = ROUTES.map((route) => {
    const segments = route.path.split('/').slice(1);
    return { route, segments, params: segments.map((segment) => (segment.startsWith(':') ? segment.slice(1) : null)) };
  });
  const namespaces = [...new Set(compiled.map((c) => c.segments[0] as string))];

  function match(method: string, path: string): Match {
    // A path that is not valid percent-encoding names no route, whichever adapter passed it.
    const segments = decodePath(path);
    if (segments === null) return { kind: 'none' };
    const lookup = method === 'HEAD' ? 'GET' : method;
    let allow: string[] | undefined;
    for (const { route, segments: pattern, params: names } of compiled) {
      if (pattern.length !== segments.length) continue;
      let params: Record<string, string> | undefined;
      let matched = true;
      for (let i = 0; i < pattern.length; i++) {
        const name = names[i];
        const actual = segments[i] as string;
        if (typeof name === 'string') {
          if (actual === '') {
            matched = false;
            break;
          }
          (params ??= {})[name] = actual;
        } else if (pattern[i] !== actual) {
          matched = false;
          break;
        }
      }
      if (!matched) continue;
      if (route.method === lookup) return { kind: 'route', route, params: params ?? NO_PARAMS };
      (allow ??= []).push(route.method);
    }
    if (!allow) return { kind: 'none' };
    if (allow.includes('GET')) allow.push('HEAD');
    return { kind: 'method', allow };
  }

  async function handle(request: HttpRequest<Req>): Promise<HttpResponse> {
    const requestId = requestIdFor(request.headers['x-request-id']);
    try {
      const found = match(request.method, request.path);
      if (found.kind === 'none') throw new WebhookError('NOT_FOUND', 'route not found');
      if (found.kind === 'method') {
        const response = errorResponse(
          new WebhookError('METHOD_NOT_ALLOWED', `method ${request.method.slice(0, 20)} not allowed`),
          requestId,
          logger,
          request,
        );
        response.headers.allow = found.allow.join(', ');
        return response;
      }
      const { route, params } = found;
      const returned = authenticate(request.native);
      // Most hosts authenticate synchronously (a token lookup in memory): no await, no extra turn.
      const principal = isPromiseLike(returned) ? await returned : returned;
      if (principal === null || principal === undefined) throw new WebhookError('UNAUTHORIZED', 'authentication failed');
      checkPrincipal(principal);
      if (!principal.scopes.includes(route.access === 'read' ? read : write)) {
        throw new WebhookError('FORBIDDEN', 'missing required scope');
      }
      const body = route.body === 'none' ? undefined : parseJsonBody(await request.readBody(), request.headers, bodyLimit);
      const result = await route.run({ service, orgId: principal.orgId, params, query: request.query, body, wire });
      return jsonResponse(result.status, requestId, result.json);
    } catch (error) {
      return errorResponse(error, requestId, logger, request);
    }
  }

  function owns(method: string, path: string): boolean {
    if (method === 'OPTIONS') return false;
    const first = firstSegment(path);
    return first !== null && namespaces.includes(first);
  }

  const routedMethods = (supported: readonly string[]): string[] => supported.filter((m) => m !== 'OPTIONS');

  return { handle, owns, routedMethods, namespaces, bodyLimit };
}

