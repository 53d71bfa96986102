import { type IncomingHttpHeaders, createServer } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookService } from '../../src/service.js';
import { verifyWebhook } from '../../src/signing/index.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/storage.js';
import { manualClock } from '../../src/testing/index.js';
import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';

// Issue 25: "Rotations are uncapped, and each one multiplies the work of every delivery for 24 hours.
// After 400 rotations the webhook-signature header passes 16 KiB, and a default Node receiver
// answers 431." Now at most the current secret plus 2 rotated-out ones sign.

const STORAGES: { name: string; open(): Promise<{ storage: Storage; close(): Promise<void> }> }[] = [
  { name: 'memory', open: async () => ({ storage: memoryStorage(), close: async () => {} }) },
  { name: 'sqlite', open: () => openSqliteFileStorage('hookrelay-rotation-') },
];

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A Node http server with its defaults (16 KiB of headers at most): what a receiver runs unless it changed them. */
async function defaultNodeReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, received };
}

describe.each(STORAGES)('1,000 rotations within one grace period ($name)', (kind) => {
  it('leave at most 3 signatures on a delivery, which a default Node receiver accepts and the newest secrets verify', async () => {
    const opened = await kind.open();
    cleanup.push(opened.close);
    const receiver = await defaultNodeReceiver();
    const clock = manualClock();
    const hooks = new WebhookService({
      storage: opened.storage,
      eventTypes: ['execution.completed'],
      clock,
      rotationGracePeriod: '24h',
      delivery: { allowHttp: true, allowPrivateNetworks: true },
    });
    cleanup.push(() => hooks.stop());
    const { endpoint, secret: first } = await hooks.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    const secrets = [first];
    for (let i = 0; i < 1_000; i++) secrets.push((await hooks.rotate('org_1', endpoint.id)).secret);

    const { deliveries } = await hooks.emit('org_1', { type: 'execution.completed', data: { n: 1 } });
    await hooks.deliverDue();
    const delivery = await hooks.getDelivery('org_1', deliveries[0]!.id);
    expect(delivery.attempts.map((a) => a.statusCode)).toEqual([204]);
    expect(delivery.status).toBe('succeeded');

    const [request] = receiver.received;
    const signatures = (request!.headers['webhook-signature'] as string).split(' ');
    expect(signatures.length).toBeLessThanOrEqual(3);
    const [newest, previous, beforeThat, dropped] = secrets.slice(-4).reverse() as [string, string, string, string];
    for (const secret of [newest, previous, beforeThat]) {
      expect(verifyWebhook({ payload: request!.body, headers: request!.headers, secret, now: clock.now() }).data).toEqual({ n: 1 });
    }
    expect(() => verifyWebhook({ payload: request!.body, headers: request!.headers, secret: dropped, now: clock.now() })).toThrow(/no signature/);
    expect(new StandardWebhook(newest).verify(request!.body, request!.headers as Record<string, string>)).toEqual(JSON.parse(request!.body));
  }, 120_000);
});
