import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { WebhookError } from '../../src/errors.js';
import { type ApiRoute, webhookApi } from '../../src/http/api.js';
import { hasNoBody, payloadTooLarge } from '../../src/http/body.js';
import { queryOf } from '../../src/http/path.js';
import type { HttpResponse, RequestBody, WebhookHttpOptions } from '../../src/http/types.js';
import { portalFor } from '../../src/portal/portal.js';
import type { WebhookService } from '../../src/service.js';
import { addMount, send } from './framework-errors.js';

export { webhookFrameworkErrors } from './framework-errors.js';
export type { FrameworkErrors, FrameworkErrorsFallback } from './framework-errors.js';

/** Registered with `prefix` beside these; `authenticate` receives the `FastifyRequest`. */
export interface WebhookPluginOptions extends WebhookHttpOptions<FastifyRequest> {
  service: WebhookService;
}
export type { Principal, Authenticate, WireFormat } from '../../src/http/types.js';

/** How one of the plugin's routes answers, given how to get the body; kept in the route's config for the error handler. */
type Respond = (request: FastifyRequest, body: () => RequestBody) => Promise<HttpResponse> | HttpResponse;
interface RouteConfig {
  hookrelay?: Respond;
}

const EMPTY: RequestBody = { kind: 'empty' };

function isBodyError(error: FastifyError): boolean {
  return typeof error.code === 'string' && (error.code.startsWith('FST_ERR_CTP_') || error.code === 'FST_ERR_ROUTE_MISSING_CONTENT_TYPE');
}

/** Fastify's own body errors, as the code the API answers them with. */
function bodyError(error: FastifyError, limit: number): WebhookError {
  if (error.statusCode === 413) return payloadTooLarge(limit);
  if (error.statusCode === 415) return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  return new WebhookError('BAD_REQUEST', 'request body could not be read');
}

function respondWith(route: ApiRoute<FastifyRequest>): Respond {
  return (request, body) =>
    route.answer({
      params: request.params as Record<string, string>,
      query: queryOf(request.url),
      headers: request.headers,
      body,
      native: request,
      method: request.method,
      url: request.url,
    });
}

/** The body as the plugin's parser left it: the raw bytes, or nothing. */
const bodyOf = (request: FastifyRequest) => (): RequestBody => {
  const body: unknown = request.body;
  return Buffer.isBuffer(body) ? { kind: 'bytes', bytes: body } : EMPTY;
};

/**
 * The REST management API as an encapsulated Fastify plugin:
 * `app.register(webhookPlugin, { service, authenticate, prefix: '/v1' })`.
 * Each route is a Fastify route. Its body parser and error handler stay inside its own scope;
 * the host's are untouched.
 */
export const webhookPlugin: FastifyPluginAsync<WebhookPluginOptions> = async (fastify: FastifyInstance, options: WebhookPluginOptions) => {
  const { service, ...httpOptions } = options;
  const api = webhookApi<FastifyRequest>(service, httpOptions);
  addMount(fastify.server, fastify.prefix, api);

  // Every body arrives as bytes, up to the limit; the API's JSON rules decide about content type and JSON.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: api.bodyLimit }, (_request, body, done) => done(null, body));

  // A body Fastify refused (too large, unreadable) is answered by the route all the same, so
  // authentication and scope checks answer first, as on Express. Other errors (a host hook's,
  // say) are not ours: rethrown, they reach the host's error handler.
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const respond = (request.routeOptions.config as RouteConfig).hookrelay;
    if (respond === undefined || !isBodyError(error)) throw error;
    // Fastify refuses an unparsable Content-Type even without a body; the API looks at it only when there is one.
    const refused = hasNoBody(request.headers) ? null : bodyError(error, api.bodyLimit);
    const body = (): RequestBody => {
      if (refused) throw refused;
      return EMPTY;
    };
    return Promise.resolve(respond(request, body)).then((response) => send(reply, response));
  });

  const register = (method: string | string[], url: string, respond: Respond, exposeHeadRoute = true): void => {
    const config: RouteConfig = { hookrelay: respond };
    fastify.route({
      method,
      url,
      exposeHeadRoute,
      config,
      handler: (request: FastifyRequest, reply: FastifyReply) => Promise.resolve(respond(request, bodyOf(request))).then((response) => send(reply, response)),
    });
  };
  const methods = fastify.supportedMethods.filter((method) => method !== 'OPTIONS');
  for (const route of api.routes) register(route.method, route.path, respondWith(route));
  for (const { path, allow, refuse } of api.paths) {
    const others = methods.filter((method) => !allow.includes(method));
    register(others, path, (request) => refuse({ method: request.method, headers: request.headers, params: request.params as Record<string, string> }), false);
  }
  for (const namespace of api.namespaces) {
    const notFound: Respond = (request) => api.notFound(request.headers);
    if (!api.paths.some(({ path }) => path === namespace)) register(methods, namespace, notFound, false);
    register(methods, `${namespace}/*`, notFound, false);
  }
  const portal = portalFor(httpOptions);
  if (portal) {
    // GET routes answer HEAD too (Fastify's exposeHeadRoute); other methods there stay the host's.
    fastify.get('/portal', (request, reply) => send(reply, portal.handle(request.method, '/portal')));
    fastify.get('/portal/*', (request, reply) => send(reply, portal.handle(request.method, `/portal/${(request.params as { '*': string })['*']}`)));
  }
};

// A name in Fastify's plugin tree (`printPlugins`); unlike fastify-plugin's `skip-override`, it keeps encapsulation.
Object.defineProperty(webhookPlugin, Symbol.for('fastify.display-name'), { value: 'hookrelay' });
