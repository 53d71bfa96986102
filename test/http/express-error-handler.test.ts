import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookErrorHandler, webhookRouter } from '../../adapters/express/index.js';
import { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';

// Issue 16: "An Express host that runs `app.use(express.json())` before the router (the most common
// setup) gets Express's own HTML 400 for malformed JSON on the webhook routes, not the JSON error
// envelope." … "Errors on the host's other routes must be left alone."

const AUTH = { authorization: 'Bearer key_1' };
const JSON_TYPE = { 'content-type': 'application/json' };

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

function send(port: number, { method, path, headers = {}, body }: Sent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The envelope's error without its request id, which differs per request. */
function envelopeError(answer: Answer): unknown {
  expect(answer.contentType).toBe('application/json; charset=utf-8');
  const { success, error } = JSON.parse(answer.body) as { success: boolean; error: { request_id?: string } };
  expect(success).toBe(false);
  const { request_id: _requestId, ...rest } = error;
  return rest;
}

async function listen(app: Express): Promise<{ port: number; close: () => Promise<void> }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const hostErrors: unknown[] = [];
/** The host's own error handler after ours: sees what we pass on, answers in its own format. */
const hostErrorHandler: ErrorRequestHandler = (error: { status?: number }, _req, res, _next) => {
  hostErrors.push(error);
  res.status(error.status ?? 500).type('text/plain').send('host error page');
};

let routerOnly: { port: number; close: () => Promise<void> };
let withHostParser: { port: number; close: () => Promise<void> };
let withSmallLimit: { port: number; close: () => Promise<void> };

beforeAll(async () => {
  const hooks = new WebhookService({ storage: memoryStorage(), eventTypes: ['order.paid'] });
  const authenticate = (req: express.Request) => (req.headers.authorization === AUTH.authorization ? { orgId: 'org_1', scopes: ['webhooks:read', 'webhooks:write'] } : null);

  // The router reading bodies itself: what every answer below must equal.
  const plain = express();
  plain.use('/v1', webhookRouter(hooks, { authenticate }));
  routerOnly = await listen(plain);

  // The common host: express.json() for the whole app, then the router, then the error handler.
  const host = express();
  host.use(express.json());
  host.use((req, _res, next) => {
    // A host middleware failing for its own reasons on a webhook route: not a body error.
    if (req.headers['x-host-fails'] !== undefined) next(Object.assign(new Error('host says no'), { status: 418 }));
    else next();
  });
  host.post('/v1/orders', (_req, res) => {
    res.status(201).json({ ok: true });
  });
  host.use('/v1', webhookRouter(hooks, { authenticate }));
  host.use('/v1', webhookErrorHandler());
  withHostParser = await listen(host);

  const small = express();
  small.use(express.json({ limit: '1kb' }));
  small.use('/v1', webhookRouter(hooks, { authenticate }), webhookErrorHandler());
  small.use(hostErrorHandler);
  withSmallLimit = await listen(small);
});

afterAll(async () => {
  await Promise.all([routerOnly?.close(), withHostParser?.close(), withSmallLimit?.close()]);
});

const validEndpoint = JSON.stringify({ url: 'https://hooks.example.com/in', events: ['order.paid'] });

describe('webhookErrorHandler() behind a host express.json()', () => {
  const sameAsRouter: [string, Sent][] = [
    ['malformed JSON on create', { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE }, body: '{"url": ' }],
    ['malformed JSON on update', { method: 'PATCH', path: '/v1/webhooks/wh_01JZ0000000000000000000000', headers: { ...AUTH, ...JSON_TYPE }, body: '{,}' }],
    ['JSON a strict parser refuses (a number)', { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE }, body: '42' }],
    ['a charset other than UTF-8', { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, 'content-type': 'application/json; charset=latin1' }, body: validEndpoint }],
    ['a compressed body that does not inflate', { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE, 'content-encoding': 'gzip' }, body: 'not gzip at all' }],
    ['a compressed body that inflates', { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(validEndpoint) }],
  ];

  it.each(sameAsRouter)('answers %s with the envelope the router gives without a host parser', async (_name, sent) => {
    const [expected, actual] = await Promise.all([send(routerOnly.port, sent), send(withHostParser.port, sent)]);
    expect(actual.status).toBe(expected.status);
    expect(envelopeError(actual)).toEqual(envelopeError(expected));
    expect(actual.status).toBeGreaterThanOrEqual(400);
  });

  it('answers malformed JSON 400 BAD_REQUEST and echoes the request id', async () => {
    const answer = await send(withHostParser.port, { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE, 'x-request-id': 'req-42' }, body: '{"url": ' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ success: false, error: { code: 'BAD_REQUEST', message: 'request body is not valid JSON', request_id: 'req-42' } });
  });

  it('answers a body over the host parser’s limit 413 PAYLOAD_TOO_LARGE naming that limit', async () => {
    const body = JSON.stringify({ url: 'https://hooks.example.com/in', events: ['order.paid'], description: 'x'.repeat(2000) });
    const answer = await send(withSmallLimit.port, { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE }, body });
    expect(answer.status).toBe(413);
    expect(envelopeError(answer)).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1024 bytes' });
    expect(hostErrors).toEqual([]);
  });

  it('leaves a body that parses alone: the router answers it', async () => {
    const answer = await send(withHostParser.port, { method: 'POST', path: '/v1/webhooks', headers: { ...AUTH, ...JSON_TYPE }, body: validEndpoint });
    expect(answer.status).toBe(201);
  });

  it('passes errors on the host’s other routes to the host: Express’s own page, or the host’s handler', async () => {
    const expressPage = await send(withHostParser.port, { method: 'POST', path: '/v1/orders', headers: JSON_TYPE, body: '{"url": ' });
    expect(expressPage.status).toBe(400);
    expect(expressPage.contentType).toMatch(/^text\/html/);

    const hostPage = await send(withSmallLimit.port, { method: 'POST', path: '/v1/orders', headers: JSON_TYPE, body: '{"url": ' });
    expect(hostPage).toMatchObject({ status: 400, body: 'host error page' });
    expect(hostErrors).toHaveLength(1);
    expect(hostErrors[0]).toMatchObject({ type: 'entity.parse.failed' });

    // OPTIONS is never the router's, as in the router itself.
    const options = await send(withSmallLimit.port, { method: 'OPTIONS', path: '/v1/webhooks', headers: { ...JSON_TYPE, 'content-length': '8' }, body: '{"url": ' });
    expect(options.status).toBe(400);
    expect(hostErrors).toHaveLength(2);
  });

  it('passes on an error on a webhook route that is not about reading the body', async () => {
    const answer = await send(withHostParser.port, { method: 'GET', path: '/v1/webhooks', headers: { ...AUTH, 'x-host-fails': '1' } });
    expect(answer.status).toBe(418);
    expect(answer.contentType).toMatch(/^text\/html/);
  });
});
