// `npm run demo`: hookrelay doing its job in about fifteen seconds, offline.
//
// An Express app mounts hookrelay's REST API and keeps its webhooks in an embedded SQLite file.
// Three customers subscribe through that API; a local receiver plays all three and verifies every
// signature. The app emits a stream of orders: one customer is flaky, one has an outage that ends,
// one is broken until it is fixed, paused by hookrelay, resumed through the API, and caught up.
// The run ends with a summary table and leaves the SQLite file behind for inspection.
//
// It imports 'hookrelay' like any user; in this repo tsconfig `paths` maps that name to the
// sources, so tsx runs it on a clean clone without a build.
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebhookService } from 'hookrelay';
import { webhookRouter } from 'hookrelay/express';
import { sqliteStorage } from 'hookrelay/sqlite';
import { DemoReceiver, brokenUntilFixed, flakyEvery, outageFor } from './demo-receiver.js';
import { Progress } from './progress.js';
import { renderTable } from './table.js';

const DATABASE = process.env.DEMO_DB ?? 'hookrelay-demo.db';
const EVENTS = Number(process.env.DEMO_EVENTS ?? 40);
const ORG_ID = 'org_demo';
const API_KEY = 'demo_key_not_a_secret';
// The default schedule is the seed's 1s, 5s, 30s, 2min, 10min; this one keeps the demo short.
const RETRY_SCHEDULE = ['200ms', '500ms', '1s', '2s', '3s'];
const DEADLINE_MS = 50_000;

const started = Date.now();
const deadline = setTimeout(() => {
  console.error(`demo: not finished after ${DEADLINE_MS / 1000}s; giving up`);
  process.exit(1);
}, DEADLINE_MS);

for (const suffix of ['', '-wal', '-shm']) rmSync(`${DATABASE}${suffix}`, { force: true });

// The customers' side.
const receiver = new DemoReceiver();
await receiver.listen();
const initechBehaviour = brokenUntilFixed();
const customers = {
  acme: { url: receiver.addCustomer('acme', flakyEvery(4)), story: 'flaky: the first try of every 4th event fails' },
  globex: { url: receiver.addCustomer('globex', outageFor(2500)), story: 'down (503) for 2.5 s, then fine' },
  initech: { url: receiver.addCustomer('initech', initechBehaviour), story: 'broken (500) until fixed' },
};

// The host: Express + hookrelay on SQLite.
const storage = sqliteStorage({ filename: DATABASE });
let progress: Progress | undefined;
let resolvePaused: (endpointId: string) => void = () => {};
const paused = new Promise<string>((resolve) => (resolvePaused = resolve));
const hooks = new WebhookService({
  storage,
  eventTypes: ['order.created', 'order.paid', 'order.shipped'],
  retry: { schedule: RETRY_SCHEDULE },
  // The receiver is on 127.0.0.1 over http: allowed here, refused by default (SSRF guard). Retries
  // due sooner than the poll interval (default 1 s) can wait for the next poll: poll as fast as the schedule.
  delivery: { allowHttp: true, allowPrivateNetworks: true, pollInterval: '50ms' },
  onEndpointPaused({ endpoint, reason }) {
    progress?.log(`! hookrelay paused ${endpoint.url} (${reason}): the host would email the customer now`);
    resolvePaused(endpoint.id);
  },
});
await hooks.migrate();

const app = express();
app.use(
  '/v1',
  webhookRouter(hooks, {
    authenticate: (req) => (req.headers.authorization === `Bearer ${API_KEY}` ? { orgId: ORG_ID, scopes: ['webhooks:read', 'webhooks:write'] } : null),
  }),
);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

async function callApi(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

console.log(`hookrelay demo: Express app at ${api}, webhooks in ${DATABASE} (SQLite), receiver at ${receiver.baseUrl}`);
console.log(`retry schedule ${RETRY_SCHEDULE.join(', ')} (shortened for the demo)\n`);

progress = new Progress(hooks);
const endpointIds: Record<string, string> = {};
for (const [name, customer] of Object.entries(customers)) {
  const created = await callApi('POST', '/webhooks', { url: customer.url, events: ['order.created', 'order.paid', 'order.shipped'], description: name });
  endpointIds[name] = created.id as string;
  receiver.setSecret(name, created.secret as string);
  progress.track(created.id as string, name);
  console.log(`POST /v1/webhooks → ${created.id} for ${name} (${customer.story}); secret shown once`);
}
console.log('');

hooks.start();
progress.start();

const types = ['order.created', 'order.paid', 'order.shipped'] as const;
for (let i = 0; i < EVENTS; i++) {
  const { deliveries } = await hooks.emit(ORG_ID, { type: types[i % 3] as string, data: { orderId: `ord_${1000 + i}`, amountCents: 1999 + i } });
  progress.emitted(deliveries.map((d) => d.endpointId));
  await new Promise((resolve) => setTimeout(resolve, 60));
}
progress.log(`emitted ${EVENTS} events, ${EVENTS * 3} deliveries`);

// initech exhausts its schedule and is paused; its other deliveries are held, not dropped.
await paused;
// Give the pause a moment on screen: new and pending initech deliveries now wait as `held`.
await new Promise((resolve) => setTimeout(resolve, 1500));
initechBehaviour.recover();
await callApi('PATCH', `/webhooks/${endpointIds.initech}`, { status: 'active' });
progress.resumed(endpointIds.initech as string);
progress.log('initech fixed its endpoint; PATCH /v1/webhooks/… {"status":"active"} → held deliveries flow again');

// Done when nothing is pending or held any more. A delivery that exhausted its schedule is `failed`
// (terminal): the customer retries it through the API, here as soon as it shows up, since an
// attempt in flight when the endpoint was paused can still exhaust after the resume.
const initech = endpointIds.initech as string;
for (;;) {
  const exhausted = (await callApi('GET', `/webhooks/${initech}/deliveries?status=failed&limit=100`)).data as { id: string }[];
  for (const { id } of exhausted) {
    await callApi('POST', `/webhooks/${initech}/deliveries/${id}/retry`);
    progress.retriedByHand(initech, id);
    progress.log(`POST /v1/webhooks/…/deliveries/${id}/retry: it had exhausted the schedule`);
  }
  const open = await Promise.all(['pending', 'held'].map((status) => hooks.listDeliveries(ORG_ID, { status: status as 'pending' | 'held', limit: 1 })));
  if (exhausted.length === 0 && open.every((page) => page.data.length === 0)) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
progress.stop();
await hooks.stop();

console.log(`\nsummary after ${((Date.now() - started) / 1000).toFixed(1)} s:`);
console.log(renderTable(progress.summary()));
const receiverRows = Object.keys(customers).map((name) => {
  const stats = receiver.stats(name);
  return { customer: name, requests: stats.received, 'signatures verified': stats.verified, rejected: stats.rejected, 'distinct events processed': stats.processed.size };
});
console.log(renderTable(receiverRows));

const complete = receiverRows.every((row) => row['distinct events processed'] === EVENTS && row.rejected === 0);
console.log(
  complete
    ? `every customer processed all ${EVENTS} events, every signature verified. Inspect ${DATABASE} with any SQLite client (tables hookrelay_*).`
    : 'some events were not processed: see the tables above',
);

clearTimeout(deadline);
server.close();
await receiver.close();
await storage.close();
process.exitCode = complete ? 0 : 1;
