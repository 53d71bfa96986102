import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { WebhookService } from '../../src/service.js';
import { createWebhookHandler } from '../../src/http/handler.js';
import type { HttpResponse, WebhookHttpOptions } from '../../src/http/types.js';
import { readExpressBody } from './read-body.js';

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
 * It answers only under `/webhooks` and `/event-types` (OPTIONS excepted) and passes everything else on to the host.
 * It reads JSON bodies itself, and uses `req.body` when the host already ran `express.json()`.
 */
export function webhookRouter(service: WebhookService, options: WebhookRouterOptions): Router {
  const handler = createWebhookHandler(service, options);
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    // Raw, as Express has it: the shared handler decodes each segment once, as for Fastify.
    const path = req.path;
    if (!handler.owns(req.method, path)) {
      next();
      return;
    }
    const url = req.url;
    const q = url.indexOf('?');
    handler
      .handle({
        method: req.method,
        path,
        query: q === -1 ? '' : url.slice(q + 1),
        headers: req.headers,
        readBody: () => readExpressBody(req, handler.bodyLimit),
        native: req,
      })
      .then((response) => send(res, response), next);
  });
  return router;
}
