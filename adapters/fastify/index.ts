import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { WebhookError } from '../../src/errors.js';
import { payloadTooLarge } from '../../src/http/body.js';
import { createWebhookHandler } from '../../src/http/handler.js';
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

/**
 * The REST management API as an encapsulated Fastify plugin:
 * `app.register(webhookPlugin, { service, authenticate, prefix: '/v1' })`.
 * Its body parser and error handler stay inside its own scope; the host's are untouched.
 */
export const webhookPlugin: FastifyPluginAsync<WebhookPluginOptions> = async (fastify: FastifyInstance, options: WebhookPluginOptions) => {
  const { service, ...httpOptions } = options;
  const handler = createWebhookHandler<FastifyRequest>(service, httpOptions);

  // Every body arrives as bytes; the shared handler decides about content type and JSON.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: handler.bodyLimit }, (_request, body, done) => done(null, body));

  const answer = (request: FastifyRequest, reply: FastifyReply, path: string, readBody: () => Promise<RequestBody>): Promise<FastifyReply> => {
    const url = request.url;
    const q = url.indexOf('?');
    return handler
      .handle({ method: request.method, path, query: q === -1 ? '' : url.slice(q + 1), headers: request.headers, readBody, native: request })
      .then((response) => send(reply, response));
  };

  const pathOf = (request: FastifyRequest): string => {
    const route = request.routeOptions.url ?? '';
    const base = route.slice(fastify.prefix.length).replace(/\/\*$/, '');
    const rest = (request.params as Record<string, string> | undefined)?.['*'];
    return rest === undefined ? base : `${base}/${rest}`;
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
    const refused = bodyError(error, handler.bodyLimit);
    return answer(request, reply, pathOf(request), () => Promise.reject(refused));
  });

  const methods = handler.routedMethods(fastify.supportedMethods);
  for (const namespace of handler.namespaces) {
    const base = `/${namespace}`;
    fastify.route({
      method: methods,
      url: base,
      exposeHeadRoute: false,
      handler: (request, reply) => answer(request, reply, base, () => bodyOf(request)),
    });
    fastify.route({
      method: methods,
      url: `${base}/*`,
      exposeHeadRoute: false,
      handler: (request, reply) =>
        answer(request, reply, `${base}/${(request.params as Record<string, string>)['*']}`, () => bodyOf(request)),
    });
  }
};

// A name in Fastify's plugin tree (`printPlugins`); unlike fastify-plugin's `skip-override`, it keeps encapsulation.
Object.defineProperty(webhookPlugin, Symbol.for('fastify.display-name'), { value: 'hookrelay' });
