import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReceiver } from '../../examples/receiver/receiver.js';
import { hmacSha256Hex, standardWebhooks } from '../../src/index.js';
import { type RunningExample, runExample } from './run-example.js';

// Vitest does not read tsconfig `paths`: point the package name at the sources, as tsx does for the example.
vi.mock('hookrelay', () => import('../../src/index.js'));

const SECRET = `whsec_${Buffer.from('a 32-byte key for the receiver!!').toString('base64')}`;

function signedDelivery(scheme: ReturnType<typeof standardWebhooks>, event: { id: string; type: string; data: unknown }, secret = SECRET) {
  const body = JSON.stringify({ ...event, createdAt: new Date().toISOString() });
  const headers = scheme.sign({ endpointId: 'wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', eventId: event.id, timestamp: Date.now() / 1000, body, secrets: [secret] });
  const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
  return { body, headers: all };
}

describe('examples/receiver', () => {
  let receiver: RunningExample | undefined;
  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
  });

  it('accepts a Standard Webhooks delivery once per event id and rejects tampered or unsigned ones', async () => {
    receiver = await runExample('examples/receiver/main.ts', { WEBHOOK_SECRET: SECRET, PORT: '0' });
    const delivery = signedDelivery(standardWebhooks(), { id: 'evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', type: 'order.paid', data: { orderId: 'o_1' } });

    expect((await fetch(receiver.url, { method: 'POST', ...delivery })).status).toBe(204);
    // A retry of the same event is acknowledged but not handled twice.
    expect((await fetch(receiver.url, { method: 'POST', ...delivery })).status).toBe(204);

    const tampered = await fetch(receiver.url, { method: 'POST', headers: delivery.headers, body: delivery.body.replace('o_1', 'o_2') });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toEqual({ error: 'BAD_SIGNATURE' });

    const unsigned = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: delivery.body });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toEqual({ error: 'MISSING_HEADERS' });

    const otherSecret = signedDelivery(standardWebhooks(), { id: 'evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VN', type: 'order.paid', data: {} }, `whsec_${Buffer.from('another key, not the endpoint one').toString('base64')}`);
    expect((await fetch(receiver.url, { method: 'POST', ...otherSecret })).status).toBe(400);

    await receiver.waitForLine(/rejected BAD_SIGNATURE/);
    const handled = receiver.output().split('\n').filter((line) => line.startsWith('received '));
    expect(handled).toEqual(['received evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VM order.paid {"orderId":"o_1"}']);
  }, 60_000);

  it('verifies the sha256=<hex> scheme under a custom header prefix', async () => {
    receiver = await runExample('examples/receiver/main.ts', {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_SCHEME: 'hmac-sha256-hex',
      WEBHOOK_HEADER_PREFIX: 'X-YA-Webhook',
      PORT: '0',
    });
    const delivery = signedDelivery(hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }), { id: 'evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VP', type: 'execution.completed', data: { agentId: 'agt_abc123' } });
    expect(delivery.headers['X-YA-Webhook-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect((await fetch(receiver.url, { method: 'POST', ...delivery })).status).toBe(204);
    await receiver.waitForLine(/^received evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VP execution\.completed/);
    // A Standard Webhooks signature is not what this receiver was told to expect.
    const wrongScheme = signedDelivery(standardWebhooks(), { id: 'evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VQ', type: 'execution.completed', data: {} });
    expect((await fetch(receiver.url, { method: 'POST', ...wrongScheme })).status).toBe(400);
  }, 60_000);

  it('acknowledges a retry racing a failing first attempt only once the event was handled', async () => {
    let releaseFirst!: () => void;
    const firstGate = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstStarted!: () => void;
    const firstRunning = new Promise<void>((resolve) => (firstStarted = resolve));
    let calls = 0;
    let handled = 0;
    const server = createReceiver({
      secret: SECRET,
      async onEvent() {
        calls += 1;
        if (calls === 1) {
          firstStarted();
          await firstGate;
          throw new Error('database unavailable');
        }
        handled += 1;
      },
    });
    let arrived = 0;
    server.on('request', () => (arrived += 1));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const delivery = signedDelivery(standardWebhooks(), { id: 'evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VR', type: 'order.paid', data: { orderId: 'o_3' } });
      const post = () => fetch(url, { method: 'POST', ...delivery }).then((response) => ({ status: response.status, handledBefore: handled }));

      const first = post();
      await firstRunning;
      // hookrelay's retry of the same event (a timeout of the first attempt) arrives while the first is still running.
      const retry = post();
      await expect.poll(() => arrived).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      releaseFirst();

      expect((await first).status).toBe(500);
      // A 2xx would tell hookrelay the event was handled, when the only attempt so far failed.
      expect(await retry).toEqual({ status: 500, handledBefore: 0 });
      // The next retry handles it; the ones after that are acknowledged without handling it again.
      expect(await post()).toEqual({ status: 204, handledBefore: 1 });
      expect(await post()).toEqual({ status: 204, handledBefore: 1 });
      expect(calls).toBe(2);
    } finally {
      server.close();
    }
  });
});
