import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { WebhookService } from '../../src/service.js';
import { webhookApi } from '../../src/http/api.js';
import { decodePath, firstSegment, queryOf } from '../../src/http/path.js';
import type { HttpResponse, WebhookHttpOptions } from '../../src/http/types.js';
import { portalFor } from '../../src/portal/portal.js';
import { bodyReader } from './request-body.js';

/** `authenticate` receives the Express `Request`; see `WebhookHttpOptions` for the rest. */
export type WebhookRouterOptions = WebhookHttpOptions<Request>;
export type { Principal, Authenticate, WireFormat } from '../../src/http/types.js';

function send(res: Response, response: HttpResponse): void {
  res.status(response.status);
  for (const name in response.headers) res.setHeader(name, response.headers[name] as string);
  res.setHeader('content-length', Buffer.byteLength(response.body));
  res.end(response.body);
}

/**
 * The REST management API as an Express router: `app.use('/v1', webhookRouter(hooks, { authenticate }))`.
 * Each route is an Express route; it answers only under `/webhooks` and `/event-types` (OPTIONS
 * excepted) and passes everything else on to the host. It reads bodies with Express's own body
 * parser, and uses `req.body` when the host already ran `express.json()`.
 */
export function webhookRouter(service: WebhookService, options: WebhookRouterOptions): Router {
  const api = webhookApi(service, options);
  const readBody = bodyReader(api.bodyLimit);
  // Case-sensitive and strict, as the API's paths are on every framework: `/Webhooks` and `/webhooks/` name no route.
  const router = express.Router({ caseSensitive: true, strict: true });

  router.use((req: Request, res: Response, next: NextFunction) => {
    // CORS preflight stays with the host's middleware.
    if (req.method === 'OPTIONS') return next('router');
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.includes('%')) return next();
    const first = firstSegment(path);
    if (first === null || !api.namespaces.includes(`/${first}`)) return next();
    // Express matches literal segments as sent and decodes parameters: each segment is decoded
    // once here and written back in one spelling, so `/%77ebhooks` is `/webhooks` as on Fastify
    // and an escaped `/` stays inside its segment.
    const segments = decodePath(path);
    if (segments === null) return send(res, api.notFound(req.headers));
    req.url = `/${segments.map(encodeURIComponent).join('/')}${q === -1 ? '' : url.slice(q)}`;
    next();
  });

  for (const { path, refuse } of api.paths) {
    const route = router.route(path);
    for (const { method, answer } of api.routes.filter((r) => r.path === path)) {
      route[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete']((req: Request, res: Response, next: NextFunction) => {
        answer({
          params: req.params as Record<string, string>,
          query: queryOf(req.url),
          headers: req.headers,
          body: () => readBody(req, res),
          native: req,
          method: req.method,
          url: req.originalUrl,
        }).then((response) => send(res, response), next);
      });
    }
    route.all((req: Request, res: Response) => send(res, refuse({ method: req.method, headers: req.headers, params: req.params as Record<string, string> })));
  }
  for (const namespace of api.namespaces) {
    router.use(namespace, (req: Request, res: Response) => send(res, api.notFound(req.headers)));
  }
  const portal = portalFor(options);
  // GET routes answer HEAD too; other methods there stay the host's, as everywhere outside the API.
  if (portal) router.get(['/portal', '/portal/{*rest}'], (req: Request, res: Response) => send(res, portal.handle(req.method, req.path)));
  return router;
}
export { webhookErrorHandler } from './error-handler.js';
