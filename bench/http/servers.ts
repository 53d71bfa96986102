/**
 * The servers under test, run in a child process so the load generator gets the other core:
 * our Express router and Fastify plugin, and beside each a bare route of the same framework
 * that answers the very JSON ours answers, without auth, storage or validation.
 *
 * Messages: sends `{ ready, ports, endpointId }` once listening; on `'reset'` swaps in an empty
 * storage (with the GET fixture re-seeded) so POST rounds do not measure a growing store, and
 * answers `{ reset: true }`; on `'cpu'` answers `{ cpuMicros }`, the CPU time this process used.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { webhookRouter } from '../../adapters/express/index.js';
import { webhookPlugin } from '../../adapters/fastify/index.js';
import type { EndpointRecord } from '../../src/model.js';
import { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/storage.js';
import { CREATE_BODY, TOKEN } from './constants.js';


const principal = { orgId: 'org_bench', scopes: ['webhooks:read', 'webhooks:write'] };
const authenticate = (req: { headers: Record<string, string | string[] | undefined> }) => (req.headers.authorization === TOKEN ? principal : null);

/** A storage whose target can be replaced between rounds, behind one stable object the service holds. */
function swappableStorage(): { storage: Storage; swap(next: Storage): void } {
  let target: Storage = memoryStorage();
  const storage = new Proxy({} as Storage, {
    get(_, property) {
      const value = (target as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { storage, swap: (next) => (target = next) };
}

async function main(): Promise<void> {
  const { storage, swap } = swappableStorage();
  const service = new WebhookService({
    storage,
    eventTypes: ['execution.completed', 'execution.failed'],
    limits: { maxEndpointsPerOrg: 1_000_000_000 },
  });
  const { endpoint } = await service.create(principal.orgId, JSON.parse(CREATE_BODY));
  const seed = (await storage.getEndpoint(principal.orgId, endpoint.id)) as EndpointRecord;

  const expressOurs = express();
  expressOurs.use('/v1', webhookRouter(service, { authenticate }));
  const fastifyOurs = Fastify();
  await fastifyOurs.register(webhookPlugin, { service, authenticate, prefix: '/v1' });

  const listenExpress = async (app: express.Express): Promise<number> => {
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return (server.address() as AddressInfo).port;
  };
  const ports = {
    expressOurs: await listenExpress(expressOurs),
    fastifyOurs: (await fastifyOurs.listen({ port: 0, host: '127.0.0.1' }), (fastifyOurs.server.address() as AddressInfo).port),
    expressBare: 0,
    fastifyBare: 0,
    expressWork: 0,
    fastifyWork: 0,
  };

  // The bare routes answer exactly what ours answered, serialized on every request as ours is.
  const headers = { authorization: TOKEN, 'content-type': 'application/json' };
  const base = `http://127.0.0.1:${ports.expressOurs}/v1`;
  const getJson: unknown = await (await fetch(`${base}/webhooks/${endpoint.id}`, { headers })).json();
  const postJson: unknown = await (await fetch(`${base}/webhooks`, { method: 'POST', headers, body: CREATE_BODY })).json();

  const expressBare = express();
  expressBare.get('/v1/webhooks/:id', (_req, res) => {
    res.json(getJson);
  });
  expressBare.post('/v1/webhooks', express.json(), (_req, res) => {
    res.status(201).json(postJson);
  });
  ports.expressBare = await listenExpress(expressBare);

  const fastifyBare = Fastify();
  fastifyBare.get('/v1/webhooks/:id', async () => getJson);
  fastifyBare.post('/v1/webhooks', async (_request, reply) => reply.code(201).send(postJson));
  await fastifyBare.listen({ port: 0, host: '127.0.0.1' });
  ports.fastifyBare = (fastifyBare.server.address() as AddressInfo).port;

  // Bare routes doing the same service call, to isolate what the HTTP layer itself costs.
  const created = async (body: unknown) => {
    const { endpoint: e, secret } = await service.create(principal.orgId, body as Parameters<WebhookService['create']>[1]);
    return { ...e, secret };
  };
  const expressWork = express();
  expressWork.post('/v1/webhooks', express.json(), (req, res, next) => {
    created(req.body).then((out) => res.status(201).json(out), next);
  });
  ports.expressWork = await listenExpress(expressWork);
  const fastifyWork = Fastify();
  fastifyWork.post('/v1/webhooks', async (request, reply) => reply.code(201).send(await created(request.body)));
  await fastifyWork.listen({ port: 0, host: '127.0.0.1' });
  ports.fastifyWork = (fastifyWork.server.address() as AddressInfo).port;

  process.on('message', async (message) => {
    if (message === 'reset') {
      const next = memoryStorage();
      await next.createEndpoint(seed, { maxPerOrg: 1 });
      swap(next);
      process.send?.({ reset: true });
    } else if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, ports, endpointId: endpoint.id });
}

await main();
