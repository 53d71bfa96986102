import { afterEach, describe, expect, it } from 'vitest';
import { hmacSha256Hex, standardWebhooks } from '../../src/index.js';
import { type RunningExample, runExample } from './run-example.js';

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
});
