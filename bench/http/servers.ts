/**
 * The servers under test for one framework (argv[2]: `express` or `fastify`), run in a child
 * process of their own so the load generator gets the other core and neither framework's JIT
 * state or heap colours the other's figures. Three servers: ours (the router or plugin), a bare
 * route answering the very JSON ours answers (no auth, storage or validation), and bare routes
 * making the same service calls (`service.get`, `service.create`), the baseline the targets are
 * judged against: what a host writing the route by hand would have; with
 * HOOKRELAY_BENCH_BUSY_US set, a fourth: a bare route spending that much CPU first. hookrelay is the
 * built package (dist/), not the sources through tsx, whose transform adds work the build has not
 * (esbuild's keepNames wraps inner functions in `__name` calls, about 2% of a request's handler time).
 *
 * Messages: sends `{ ports, endpointId }` once listening; on `'reset'` swaps in an empty storage
 * (the GET fixture re-seeded) so POST rounds do not measure a growing store, and answers
 * `{ reset: true }`; on `'cpu'` answers `{ cpuMicros }`, the CPU time its event-loop thread has used.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
// The package as a host installs it: index.ts starts this file with a tsconfig without the
// sources mapping, so these resolve through package.json "exports" to the build in dist/.
import { type EndpointRecord, type Storage, WebhookService, memoryStorage } from 'hookrelay';
import { webhookRouter } from 'hookrelay/express';
import { webhookFrameworkErrors, webhookPlugin } from 'hookrelay/fastify';
import { CREATE_BODY, TOKEN } from './constants.js';

const SCOPES = ['webhooks:read', 'webhooks:write'];
const principal = { orgId: 'org_bench', scopes: SCOPES };
/**
 * Creates are spread over many organizations, as in production where each holds at most 50
 * endpoints; piling every create into one org would measure the storage's per-org cap check.
 */
const ORGS = 5000;
let creates = 0;
const nextOrg = (): string => `org_${creates++ % ORGS}`;
const authenticate = (req: { method?: string; headers: Record<string, string | string[] | undefined> }) => {
  if (req.headers.authorization !== TOKEN) return null;
  return req.method === 'POST' ? { orgId: nextOrg(), scopes: SCOPES } : principal;
};
const requestHeaders = { authorization: TOKEN, 'content-type': 'application/json' };

/**
 * A storage whose target can be replaced between rounds, behind one stable object the service
 * holds. Its methods are re-bound at each swap, so a request pays a plain call, not a proxy trap.
 */
function swappableStorage(): { storage: Storage; swap(next: Storage): void } {
  const storage = {} as Record<PropertyKey, unknown>;
  const swap = (next: Storage): void => {
    const target = next as unknown as Record<PropertyKey, unknown>;
    const done = new Set<string>();
    // The instance first, then its prototypes: the nearest definition of a name wins, as in a lookup.
    for (let level: object | null = next; level && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
      for (const name of Object.getOwnPropertyNames(level)) {
        if (name === 'constructor' || done.has(name)) continue;
        done.add(name);
        const value = target[name];
        storage[name] = typeof value === 'function' ? value.bind(next) : value;
      }
    }
  };
  swap(memoryStorage());
  return { storage: storage as unknown as Storage, swap };
}

/** The service calls ours makes for `GET /webhooks/:id` and `POST /webhooks`, made by the bare "work" routes. */
interface ServiceCalls {
  get(id: string): Promise<unknown>;
  create(body: unknown): Promise<unknown>;
}

interface Apps {
  /** Starts the router or plugin; resolves with its port. */
  ours(): Promise<number>;
  /** Starts the bare routes answering `getJson` / `postJson`, and the bare routes making the same service calls. */
  bare(getJson: unknown, postJson: unknown, calls: ServiceCalls): Promise<{ bare: number; work: number }>;
  /** Starts a bare POST route that spends `micros` of CPU before answering `postJson` (calibration). */
  busy(postJson: unknown, micros: number): Promise<number>;
}

/** Keeps the CPU busy for `micros` microseconds, as a route doing that much work would. */
function spin(micros: number): void {
  const end = process.hrtime.bigint() + BigInt(Math.round(micros * 1000));
  while (process.hrtime.bigint() < end);
}

/** `--calibrate N` of index.ts: the microseconds the calibration route spends; 0 starts no such route. */
const BUSY_MICROS = Number(process.env.HOOKRELAY_BENCH_BUSY_US ?? 0);

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time of the event-loop thread alone. Node serves requests on that one thread, so its CPU
 * time is what a saturated server spends per request; the process total would add JIT compiler
 * and GC helper threads, whose bursts land on whichever run they happen to overlap. Falls back to
 * the process total where /proc is missing.
 */
function mainThreadCpuMicros(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    const { user, system } = process.cpuUsage();
    return user + system;
  }
}

async function listenExpress(app: express.Express): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return (server.address() as AddressInfo).port;
}

async function listenFastify(app: ReturnType<typeof Fastify>): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

function expressApps(service: WebhookService): Apps {
  return {
    async ours() {
      const app = express();
      app.use('/v1', webhookRouter(service, { authenticate }));
      return listenExpress(app);
    },
    async bare(getJson, postJson, calls) {
      const bare = express();
      bare.get('/v1/webhooks/:id', (_req, res) => {
        res.json(getJson);
      });
      bare.post('/v1/webhooks', express.json(), (_req, res) => {
        res.status(201).json(postJson);
      });
      const work = express();
      work.get('/v1/webhooks/:id', (req, res, next) => {
        calls.get(req.params.id).then((out) => res.json(out), next);
      });
      work.post('/v1/webhooks', express.json(), (req, res, next) => {
        calls.create(req.body).then((out) => res.status(201).json(out), next);
      });
      return { bare: await listenExpress(bare), work: await listenExpress(work) };
    },
    async busy(postJson, micros) {
      const busy = express();
      busy.post('/v1/webhooks', express.json(), (_req, res) => {
        spin(micros);
        res.status(201).json(postJson);
      });
      return listenExpress(busy);
    },
  };
}

function fastifyApps(service: WebhookService): Apps {
  return {
    async ours() {
      const app = Fastify({ frameworkErrors: webhookFrameworkErrors() });
      await app.register(webhookPlugin, { service, authenticate, prefix: '/v1' });
      return listenFastify(app);
    },
    async bare(getJson, postJson, calls) {
      const bare = Fastify();
      bare.get('/v1/webhooks/:id', async () => getJson);
      bare.post('/v1/webhooks', async (_request, reply) => reply.code(201).send(postJson));
      const work = Fastify();
      work.get<{ Params: { id: string } }>('/v1/webhooks/:id', async (request) => calls.get(request.params.id));
      work.post('/v1/webhooks', async (request, reply) => reply.code(201).send(await calls.create(request.body)));
      return { bare: await listenFastify(bare), work: await listenFastify(work) };
    },
    async busy(postJson, micros) {
      const busy = Fastify();
      busy.post('/v1/webhooks', async (_request, reply) => {
        spin(micros);
        return reply.code(201).send(postJson);
      });
      return listenFastify(busy);
    },
  };
}

async function main(framework: string): Promise<void> {
  const { storage, swap } = swappableStorage();
  const service = new WebhookService({
    storage,
    eventTypes: ['execution.completed', 'execution.failed'],
    limits: { maxEndpointsPerOrg: 1_000_000_000 },
  });
  const { endpoint } = await service.create(principal.orgId, JSON.parse(CREATE_BODY));
  const seed = (await storage.getEndpoint(principal.orgId, endpoint.id)) as EndpointRecord;
  const apps = framework === 'express' ? expressApps(service) : fastifyApps(service);

  const ours = await apps.ours();
  // The bare routes answer exactly what ours answered, serialized on every request as ours is.
  const base = `http://127.0.0.1:${ours}/v1`;
  const getJson: unknown = await (await fetch(`${base}/webhooks/${endpoint.id}`, { headers: requestHeaders })).json();
  const postJson: unknown = await (await fetch(`${base}/webhooks`, { method: 'POST', headers: requestHeaders, body: CREATE_BODY })).json();
  const calls: ServiceCalls = {
    get: (id) => service.get(principal.orgId, id),
    async create(body) {
      const { endpoint: created, secret } = await service.create(nextOrg(), body as Parameters<WebhookService['create']>[1]);
      return { ...created, secret };
    },
  };
  const { bare, work } = await apps.bare(getJson, postJson, calls);

  process.on('message', async (message) => {
    if (message === 'reset') {
      const next = memoryStorage();
      await next.createEndpoint(seed, { maxPerOrg: 1 });
      swap(next);
      // Each run starts from a collected heap, so one run's garbage is not billed to the next.
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ reset: true });
    } else if (message === 'cpu') {
      process.send?.({ cpuMicros: mainThreadCpuMicros() });
    }
  });
  process.on('disconnect', () => process.exit(0));
  const busy = BUSY_MICROS > 0 ? await apps.busy(postJson, BUSY_MICROS) : undefined;
  process.send?.({ ports: { Ours: ours, Bare: bare, Work: work, ...(busy ? { Busy: busy } : {}) }, endpointId: endpoint.id });
}

const framework = process.argv[2];
if (framework !== 'express' && framework !== 'fastify') throw new Error('usage: servers.ts express|fastify');
await main(framework);
