import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { HOOKRELAY_VERSION } from '../../src/delivery/user-agent.js';
import { WebhookService, hmacSha256Hex, memoryStorage, standardWebhooks } from '../../src/index.js';
import { type Harness, harness } from './helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('emit: validation', () => {
  it('rejects unknown types, missing or unserializable data, bad keys, unknown fields — writing nothing', async () => {
    h = await harness();
    await h.endpoint();
    const bad: [unknown, string][] = [
      [{ type: 'execution.unknown', data: {} }, 'type'],
      [{ type: 'webhook.test', data: {} }, 'type'],
      [{ type: 42, data: {} }, 'type'],
      [{ type: 'execution.completed' }, 'data'],
      [{ type: 'execution.completed', data: { n: 10n } }, 'data'],
      [{ type: 'execution.completed', data: () => 1 }, 'data'],
      [{ type: 'execution.completed', data: {}, idempotencyKey: '' }, 'idempotencyKey'],
      [{ type: 'execution.completed', data: {}, idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
      [{ type: 'execution.completed', data: {}, extra: 1 }, 'extra'],
      // A toJSON (or getter) may throw anything, not only an Error.
      [{ type: 'execution.completed', data: { toJSON: () => { throw null; } } }, 'data'],
      [{ type: 'execution.completed', data: { toJSON: () => { throw 'nope'; } } }, 'data'],
      [{ type: 'execution.completed', data: { toJSON: () => { throw Object.create(null); } } }, 'data'],
      // As JSON.parse makes it: an own `__proto__` key is an unknown field like any other.
      [JSON.parse('{"type":"execution.completed","data":1,"__proto__":"x"}'), '__proto__'],
    ];
    for (const [input, field] of bad) {
      const error = await h.hooks.emit('org_1', input as never).then(() => null, (e: unknown) => e);
      expect(error, field).toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
      expect(Object.hasOwn((error as { details: object }).details, field), field).toBe(true);
    }
    await expect(h.hooks.emit('org_1', null as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.hooks.emit('', { type: 'execution.completed', data: {} })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { orgId: expect.any(String) } });
    expect((await h.hooks.listDeliveries('org_1')).data).toHaveLength(0);
  });

  it('caps the serialized body at limits.maxPayloadBytes, to the byte', async () => {
    const limit = 1000;
    h = await harness({ limits: { maxPayloadBytes: limit } });
    await h.endpoint();
    // Find the data size that makes the body exactly `limit` bytes, using a real emit to measure.
    const probe = await h.hooks.emit('org_1', { type: 'execution.completed', data: { s: '' } });
    await h.hooks.deliverDue();
    const overhead = h.receiver.requests[0]!.rawBody.length;
    const exact = { s: 'x'.repeat(limit - overhead) };
    await expect(h.hooks.emit('org_1', { type: 'execution.completed', data: exact })).resolves.toBeDefined();
    const over = { s: 'x'.repeat(limit - overhead + 1) };
    await expect(h.hooks.emit('org_1', { type: 'execution.completed', data: over })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    await expect(h.hooks.emit('org_1', { type: 'execution.completed', data: { s: 'é'.repeat(limit / 2) } })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(probe.deliveries).toHaveLength(1);
    await h.hooks.deliverDue();
    expect(h.receiver.requests.at(-1)!.rawBody.length).toBe(limit);
  });

  it('memory storage refuses to join a host transaction, with a clear error and no write', async () => {
    h = await harness();
    await h.endpoint();
    await expect(h.hooks.emit('org_1', { type: 'execution.completed', data: {} }, { transaction: {} })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/transaction/),
    });
    expect((await h.hooks.listDeliveries('org_1')).data).toHaveLength(0);
  });
});

describe('emit: fan-out', () => {
  it('one delivery per subscribed, non-deleted endpoint whose filter matches (seed: agentId)', async () => {
    h = await harness();
    const all = await h.endpoint({ events: ['execution.completed', 'execution.failed'] });
    const mine = await h.endpoint({ filter: { agentId: 'agt_abc123' } });
    await h.endpoint({ filter: { agentId: 'agt_other' } });
    await h.endpoint({ events: ['tool.error'] });
    const deleted = await h.endpoint();
    await h.hooks.delete('org_1', deleted);
    await h.endpoint({ orgId: 'org_2' });

    const { event, deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { agentId: 'agt_abc123', status: 'completed' } });
    expect(event).toMatchObject({ orgId: 'org_1', type: 'execution.completed', idempotencyKey: null });
    expect(event.id).toMatch(/^evt_[0-9A-Z]{26}$/);
    expect(deliveries.map((d) => d.endpointId).sort()).toEqual([all, mine].sort());
    expect(deliveries.every((d) => d.status === 'pending' && d.eventId === event.id && d.attemptCount === 0)).toBe(true);

    const none = await h.hooks.emit('org_1', { type: 'execution.completed', data: 'not an object' });
    expect(none.deliveries.map((d) => d.endpointId)).toEqual([all]);
    // An array has no attributes to filter on, not even `length` or an index.
    const byLength = await h.endpoint({ filter: { length: 1 } });
    const byIndex = await h.endpoint({ filter: { '0': 'agt_abc123' } });
    const list = await h.hooks.emit('org_1', { type: 'execution.completed', data: ['agt_abc123'] });
    expect(list.deliveries.map((d) => d.endpointId)).not.toContain(byLength);
    expect(list.deliveries.map((d) => d.endpointId)).not.toContain(byIndex);
    expect(list.deliveries.map((d) => d.endpointId)).toEqual([all]);
  });

  it('same idempotencyKey in the same org returns the first event and writes nothing', async () => {
    h = await harness();
    await h.endpoint();
    const first = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 1 }, idempotencyKey: 'exec_1' });
    const again = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 2 }, idempotencyKey: 'exec_1' });
    expect(again.event).toEqual(first.event);
    expect(again.deliveries.map((d) => d.id)).toEqual(first.deliveries.map((d) => d.id));
    const otherOrg = await h.hooks.emit('org_2', { type: 'execution.completed', data: {}, idempotencyKey: 'exec_1' });
    expect(otherOrg.event.id).not.toBe(first.event.id);
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
    expect((await h.hooks.listDeliveries('org_1')).data).toHaveLength(1);
  });
});

describe('the request a receiver gets', () => {
  it('seed: POST, Content-Type: application/json, body { id, type, data, createdAt }, User-Agent, Standard Webhooks signature', async () => {
    h = await harness();
    const endpointId = await h.endpoint();
    const data = { executionId: 'exec_def456', agentId: 'agt_ghi789', status: 'completed', usage: { totalTokens: 231 }, duration: 1234 };
    const { event } = await h.hooks.emit('org_1', { type: 'execution.completed', data });
    await h.hooks.deliverDue();
    const [req] = h.receiver.requests;
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/hook');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['user-agent']).toBe(`hookrelay/${HOOKRELAY_VERSION}`);
    expect(req!.json).toEqual({ id: event.id, type: 'execution.completed', data, createdAt: event.createdAt.toISOString() });
    expect(Object.keys(req!.json as object)).toEqual(['id', 'type', 'data', 'createdAt']);
    expect(req!.verified).toBe(true);
    expect(req!.headers['webhook-id']).toBe(event.id);
    expect((await h.hooks.getDelivery('org_1', (await h.hooks.listDeliveries('org_1')).data[0]!.id)).endpointId).toBe(endpointId);
  });

  it('the standardwebhooks library verifies the delivery, and a retry resends the same id and body', async () => {
    h = await harness();
    const { endpoint, secret } = await h.hooks.create('org_1', { url: h.receiver.url, events: ['execution.completed'] });
    h.receiver.failNext(1, 500);
    await h.hooks.emit('org_1', { type: 'execution.completed', data: { a: 1 } });
    await h.hooks.deliverDue();
    h.clock.advance('1s');
    await h.hooks.deliverDue();
    const [first, second] = h.receiver.requests;
    expect(second!.body).toBe(first!.body);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    const wh = new Webhook(secret);
    expect(wh.verify(second!.body, second!.headers as Record<string, string>)).toEqual(JSON.parse(second!.body));
    expect(endpoint.id).toMatch(/^wh_/);
  });

  it('hmac-sha256-hex: the seed\'s own verifySignature accepts X-YA-Webhook-Signature', async () => {
    h = await harness({ signing: hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }) });
    const { secret } = await h.hooks.create('org_1', { url: h.receiver.url, events: ['execution.completed'] });
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    const req = h.receiver.requests[0]!;
    // Verbatim from the seed ("Node.js verification").
    function verifySignature(payload: string, signature: string, secret: string) {
      const expected = createHmac('sha256', secret).update(payload).digest('hex');
      return timingSafeEqual(Buffer.from(signature.replace('sha256=', '')), Buffer.from(expected));
    }
    expect(verifySignature(req.body, req.headers['x-ya-webhook-signature'] as string, secret)).toBe(true);
    expect(req.headers['x-ya-webhook-timestamp']).toMatch(/^\d+$/);
  });

  it('several schemes at once put every header set on each request', async () => {
    h = await harness({ signing: [standardWebhooks(), hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' })] });
    await h.endpoint();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    const headers = h.receiver.requests[0]!.headers;
    expect(headers['webhook-signature']).toMatch(/^v1,/);
    expect(headers['x-ya-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('the User-Agent version is package.json\'s', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(HOOKRELAY_VERSION).toBe(pkg.version);
  });
});

describe('sendTestEvent', () => {
  it('sends a webhook.test event to that endpoint only, even though it does not subscribe to it', async () => {
    h = await harness();
    await h.endpoint({ events: ['execution.completed'] });
    const target = await h.endpoint({ events: ['tool.error'] }); // last, so the receiver verifies with its secret
    const { event, delivery } = await h.hooks.sendTestEvent('org_1', target);
    expect(event.type).toBe('webhook.test');
    expect(delivery).toMatchObject({ endpointId: target, status: 'pending', eventType: 'webhook.test' });
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
    expect(h.receiver.requests[0]!.json).toMatchObject({ id: event.id, type: 'webhook.test', data: { endpointId: target } });
    expect(h.receiver.requests[0]!.verified).toBe(true);
  });

  it('is NOT_FOUND for another org\'s or a deleted endpoint', async () => {
    h = await harness();
    const id = await h.endpoint();
    await expect(h.hooks.sendTestEvent('org_2', id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await h.hooks.delete('org_1', id);
    await expect(h.hooks.sendTestEvent('org_1', id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(h.hooks.sendTestEvent('org_1', 'garbage')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('secrets stay secret', () => {
  it('no secret appears in logs, attempts, deliveries or events', async () => {
    const lines: string[] = [];
    const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((k) => [k, (obj: object, msg?: string) => void lines.push(JSON.stringify(obj) + (msg ?? ''))])) as never;
    h = await harness({ logger, retry: { schedule: [] } });
    const { secret } = await h.hooks.create('org_1', { url: h.receiver.url, events: ['execution.completed'] });
    const seen: string[] = [];
    for (const name of ['attempt', 'failure', 'exhausted', 'endpointPaused'] as const) h.hooks.on(name, (e) => void seen.push(JSON.stringify(e)));
    h.receiver.failNext(1, 500);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    const stored = JSON.stringify(await h.hooks.getDelivery('org_1', deliveries[0]!.id));
    const secretBody = secret.slice('whsec_'.length);
    for (const text of [...lines, ...seen, stored]) expect(text).not.toContain(secretBody);
    expect(lines.length).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThanOrEqual(4);
  });
});

it('rejects a non-storage and wrong retention options at construction', () => {
  expect(() => new WebhookService({ storage: memoryStorage(), eventTypes: ['a.b'], retention: { maxAge: 'forever' } })).toThrow(/retention.maxAge/);
});
