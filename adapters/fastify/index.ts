import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { WebhookError } from '../../src/errors.js';
import { hasNoBody, payloadTooLarge } from '../../src/http/body.js';
import { type WebhookHttpHandler, createWebhookHandler } from '../../src/http/handler.js';
import { decodePath, decodeSegment } from '../../src/http/path.js';
import type { HttpResponse, RequestBody, WebhookHttpOptions } from '../../src/http/types.js';
import type { WebhookService } from '../../src/service.js';

/** Registered with `prefix` beside these; `authenticate` receives the `FastifyRequest`. */
export interface WebhookPluginOptions extends WebhookHttpOptions<FastifyRequest> {
  service: WebhookService;
}
export type { Principal, Authenticate, WireFormat } from '../../src/http/types.js';

function send(reply: FastifyReply, response: HttpResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

function isBodyError(error: FastifyError): boolean {
  return typeof error.code === 'string' && (error.code.startsWith('FST_ERR_CTP_') || error.code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE');
}

/** Fastify's own body errors, as the code the API answers them with. */
function bodyError(error: FastifyError, limit: number): WebhookError {
  if (error.statusCode === 413) return payloadTooLarge(limit);
  if (error.statusCode === 415) return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  return new WebhookError('BAD_REQUEST', 'request body could not be read');
}

/** The path and query of a raw request target, also in absolute form (`http://host/v1/…`). */
function splitTarget(url: string): { path: string; query: string } {
  const origin = url.charCodeAt(0) === 47 /* '/' */ ? null : /^https?:\/\/[^/?#]*/i.exec(url);
  const target = origin ? url.slice(origin[0].length) || '/' : url;
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const hash = path.indexOf('#');
  return { path: hash === -1 ? path : path.slice(0, hash), query: q === -1 ? '' : target.slice(q + 1) };
}

/** A prefix's segments (`/orgs/:org/v1` → `['orgs', ':org', 'v1']`). */
function prefixSegments(prefix: string): string[] {
  return prefix.split('/').filter((segment) => segment !== '');
}

/** True when a raw path starts with the prefix: each segment decoded once, `:param` matching any. */
function startsWithPrefix(raw: readonly string[], prefix: readonly string[]): boolean {
  if (raw.length < prefix.length) return false;
  return prefix.every((expected, i) => {
    const actual = raw[i] as string;
    return expected.startsWith(':') ? actual !== '' : decodeSegment(actual) === expected;
  });
}

interface Mount {
  prefix: readonly string[];
  handler: WebhookHttpHandler<FastifyRequest>;
}

/** The plugins registered on each server, for `webhookFrameworkErrors`, which runs outside them. */
const mountsByServer = new WeakMap<object, Mount[]>();

function addMount(server: object, mount: Mount): void {
  const mounts = mountsByServer.get(server);
  if (mounts) mounts.push(mount);
  else mountsByServer.set(server, [mount]);
}

/**
 * Answers through the shared handler with the raw path below the prefix: Fastify's router has
 * already decoded its copy, and the handler decodes each segment once itself, as on Express.
 */
function answer(
  handler: WebhookHttpHandler<FastifyRequest>,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  query: string,
  readBody: () => Promise<RequestBody>,
): Promise<FastifyReply> {
  return handler
    .handle({ method: request.method, path, query, headers: request.headers, readBody, native: request })
    .then((response) => send(reply, response));
}

/** The raw path below `depth` prefix segments: `/v1/webhooks/wh%5F1`, depth 1 → `/webhooks/wh%5F1`. */
function below(path: string, depth: number): string {
  let start = 0;
  for (let i = 0; i < depth && start !== -1; i++) start = path.indexOf('/', start + 1);
  return start === -1 ? '/' : path.slice(start);
}

/**
 * The REST management API as an encapsulated Fastify plugin:
 * `app.register(webhookPlugin, { service, authenticate, prefix: '/v1' })`.
 * Its body parser and error handler stay inside its own scope; the host's are untouched.
 */
export const webhookPlugin: FastifyPluginAsync<WebhookPluginOptions> = async (fastify: FastifyInstance, options: WebhookPluginOptions) => {
  const { service, ...httpOptions } = options;
  const handler = createWebhookHandler<FastifyRequest>(service, httpOptions);
  const prefix = prefixSegments(fastify.prefix);
  addMount(fastify.server, { prefix, handler });

  // Every body arrives as bytes; the shared handler decides about content type and JSON.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: handler.bodyLimit }, (_request, body, done) => done(null, body));

  const answerRouted = (request: FastifyRequest, reply: FastifyReply, readBody: () => Promise<RequestBody>): Promise<FastifyReply> => {
    const { path, query } = splitTarget(request.url);
    return answer(handler, request, reply, below(path, prefix.length), query, readBody);
  };

  const bodyOf = (request: FastifyRequest): Promise<RequestBody> => {
    const body: unknown = request.body;
    return Promise.resolve(Buffer.isBuffer(body) ? { kind: 'bytes', bytes: body } : { kind: 'empty' });
  };

  // A body Fastify refused (too large, unreadable) still goes through the shared handler, so the
  // route, authentication and scope checks answer first, exactly as on every other adapter. Other
  // errors (a host hook's, say) are not ours: rethrown, they reach the host's error handler.
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    if (!isBodyError(error)) throw error;
    // Fastify refuses an unparsable Content-Type even without a body; the API looks at it only when there is one.
    if (hasNoBody(request.headers)) return answerRouted(request, reply, () => Promise.resolve({ kind: 'empty' }));
    const refused = bodyError(error, handler.bodyLimit);
    return answerRouted(request, reply, () => Promise.reject(refused));
  });

  const methods = handler.routedMethods(fastify.supportedMethods);
  for (const namespace of handler.namespaces) {
    for (const url of [`/${namespace}`, `/${namespace}/*`]) {
      fastify.route({
        method: methods,
        url,
        exposeHeadRoute: false,
        handler: (request, reply) => answerRouted(request, reply, () => bodyOf(request)),
      });
    }
  }
};

/** Fastify's `frameworkErrors` server option. */
export type FrameworkErrors = NonNullable<FastifyServerOptions['frameworkErrors']>;

/** A host's own `frameworkErrors` handler, for the framework errors the API does not answer. */
export type FrameworkErrorsFallback = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;

/** Fastify's documented fallback: the error goes to the host's root error handler. */
const sendError: FrameworkErrorsFallback = (error, _request, reply) => {
  reply.send(error);
};

/**
 * The mounted plugin whose paths hold this malformed one, with the raw path below its prefix.
 * Only percent-encoding failures are taken: Fastify's other bad URLs (a fragment in an absolute
 * target, say) may decode fine and must not reach a route without their body.
 */
function ownerOfMalformed(request: FastifyRequest): { handler: WebhookHttpHandler<FastifyRequest>; path: string; query: string } | null {
  const { path, query } = splitTarget(request.url);
  const raw = path.split('/').slice(1);
  for (const { prefix, handler } of mountsByServer.get(request.server.server) ?? []) {
    if (!startsWithPrefix(raw, prefix)) continue;
    const rest = below(path, prefix.length);
    if (decodePath(rest) === null && handler.owns(request.method, rest)) return { handler, path: rest, query };
  }
  return null;
}

/** Fastify never read the body of a request its router refused. */
const unreadBody = (): Promise<RequestBody> => Promise.reject(new WebhookError('BAD_REQUEST', 'request body could not be read'));

/**
 * For `Fastify({ frameworkErrors: webhookFrameworkErrors() })`. Fastify's router answers a
 * malformed percent-escape in the path (`/v1/webhooks/%zz`) itself, before any route or plugin
 * runs, so only this server option can give those requests the API's envelope (a 404, as on
 * Express). Requests outside the plugins' paths, and other framework errors, go to `fallback`.
 */
export function webhookFrameworkErrors(fallback: FrameworkErrorsFallback = sendError): FrameworkErrors {
  return (error, genericRequest, genericReply) => {
    const request = genericRequest as FastifyRequest;
    const reply = genericReply as FastifyReply;
    const owner = error.code === 'FST_ERR_BAD_URL' ? ownerOfMalformed(request) : null;
    if (owner === null) return fallback(error, request, reply);
    // The handler answers a malformed path 404 before authentication, so `unreadBody` is never called.
    void answer(owner.handler, request, reply, owner.path, owner.query, unreadBody);
  };
}

// A name in Fastify's plugin tree (`printPlugins`); unlike fastify-plugin's `skip-override`, it keeps encapsulation.
Object.defineProperty(webhookPlugin, Symbol.for('fastify.display-name'), { value: 'hookrelay' });
