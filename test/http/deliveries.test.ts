import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/service.js';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { type Api, type Harness, HARNESSES, type Mounted, client, newService } from './harness.js';

function expectEnvelope(response: { status: number; json: any; headers: Headers }, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.json)).toBe(status);
  expect(response.json).toEqual({ success: false, error: expect.objectContaining({ code, message: expect.any(String), request_id: response.headers.get('x-request-id') }) });
}

describe.each(HARNESSES)('REST API over $name: deliveries', (harness: Harness) => {
  let service: WebhookService;
  let mounted: Mounted;
  let api: Api;
  let receiver: TestReceiver;

  beforeAll(async () => {
    receiver = await createTestReceiver();
    // No retries: one failed attempt finishes a delivery (and pauses its endpoint), so retry and replay have work.
    service = newService({ retry: { schedule: [] } });
    mounted = await harness.mount(service);
    api = client(mounted.baseUrl);
  });
  afterAll(async () => {
    await mounted.close();
    await service.stop();
    await receiver.close();
  });
  afterEach(async () => {
    // Sends what a test left due, so the next test's receiver sees only its own deliveries.
    await service.deliverDue();
    receiver.clear();
    receiver.setSecret(undefined);
  });

  /** An endpoint on the receiver, and a test event delivered to it. */
  async function delivered(token: 'rw1' | 'rw2' = 'rw1') {
    const created = await api('POST', '/webhooks', { token, body: { url: receiver.url, events: ['execution.completed'] } });
    expect(created.status, created.text).toBe(201);
    receiver.setSecret(created.json.secret);
    const sent = await api('POST', `/webhooks/${created.json.id}/test`, { token });
    expect(sent.status, sent.text).toBe(202);
    await service.deliverDue();
    return { endpoint: created.json, event: sent.json.event, delivery: sent.json.delivery };
  }

  it('POST /webhooks/:id/test answers 202 with the event and its pending delivery, then delivers it signed', async () => {
    const created = await api('POST', '/webhooks', { body: { url: receiver.url, events: ['execution.completed'] } });
    receiver.setSecret(created.json.secret);
    const sent = await api('POST', `/webhooks/${created.json.id}/test`);
    expect(sent.status).toBe(202);
    expect(sent.json.event).toMatchObject({ id: expect.stringMatching(/^evt_/), org_id: 'org_1', type: 'webhook.test', idempotency_key: null });
    expect(sent.json.delivery).toMatchObject({
      id: expect.stringMatching(/^dlv_/),
      event_id: sent.json.event.id,
      endpoint_id: created.json.id,
      event_type: 'webhook.test',
      status: 'pending',
      attempt_count: 0,
    });
    await service.deliverDue();
    const [request] = await receiver.waitFor(1);
    expect(request?.verified).toBe(true);
    expect(request?.json).toMatchObject({ id: sent.json.event.id, type: 'webhook.test' });
  });

  it('GET /webhooks/:id/deliveries/:deliveryId answers the delivery with its attempts, no secret', async () => {
    const { endpoint, delivery } = await delivered();
    const response = await api('GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ id: delivery.id, status: 'succeeded', attempt_count: 1, last_status_code: 200 });
    expect(response.json.completed_at).toMatch(/Z$/);
    expect(response.json.attempts).toEqual([
      expect.objectContaining({ delivery_id: delivery.id, attempt_number: 1, status_code: 200, error_kind: null, started_at: expect.stringMatching(/Z$/) }),
    ]);
    expect(response.text).not.toContain(endpoint.secret);
    const list = await api('GET', `/webhooks/${endpoint.id}/deliveries`);
    const sent = await api('POST', `/webhooks/${endpoint.id}/test`);
    for (const read of [list, sent]) {
      expect(read.text).not.toContain(endpoint.secret);
      expect(read.text).not.toMatch(/"secret/);
    }
  });

  it('GET /webhooks/:id/deliveries lists newest first with filters and cursor pagination', async () => {
    const { endpoint } = await delivered();
    for (let i = 0; i < 2; i++) await api('POST', `/webhooks/${endpoint.id}/test`);
    await service.deliverDue();
    const all = await api('GET', `/webhooks/${endpoint.id}/deliveries`);
    expect(all.status).toBe(200);
    expect(all.json.data).toHaveLength(3);
    expect(all.json.next_cursor).toBeNull();
    const ids = all.json.data.map((d: { id: string }) => d.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const first = await api('GET', `/webhooks/${endpoint.id}/deliveries?limit=2`);
    expect(first.json.data.map((d: { id: string }) => d.id)).toEqual(ids.slice(0, 2));
    const rest = await api('GET', `/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${first.json.next_cursor}`);
    expect(rest.json).toEqual({ data: [expect.objectContaining({ id: ids[2] })], next_cursor: null });
    const eventId = all.json.data[1].event_id;
    const byEvent = await api('GET', `/webhooks/${endpoint.id}/deliveries?event_id=${eventId}`);
    expect(byEvent.json.data.map((d: { event_id: string }) => d.event_id)).toEqual([eventId]);
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries?status=succeeded`)).json.data).toHaveLength(3);
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries?status=failed`)).json.data).toHaveLength(0);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries?since=${future}`)).json.data).toHaveLength(0);
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries?until=${future}`)).json.data).toHaveLength(3);
  });

  it.each([
    ['status=bogus', 'status'],
    ['since=yesterday', 'since'],
    ['since=2026-04-26T12:00:00', 'since'],
    // Date.parse rolls an impossible day over into the next month (Feb 30 → Mar 2); it is refused instead.
    ['since=2026-02-30', 'since'],
    ['until=2026-04-31T00:00:00Z', 'until'],
    ['until=2026-01-01&since=2026-02-01', 'until'],
    ['event_id=nope', 'event_id'],
    ['eventId=evt_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'eventId'],
    ['limit=0', 'limit'],
    ['cursor=wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'cursor'],
    ['endpoint_id=wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'endpoint_id'],
  ])('GET /webhooks/:id/deliveries?%s is 422 keyed by %s', async (query, field) => {
    const created = await api('POST', '/webhooks', { body: { url: receiver.url, events: ['execution.completed'] } });
    const response = await api('GET', `/webhooks/${created.json.id}/deliveries?${query}`);
    expectEnvelope(response, 422, 'VALIDATION_FAILED');
    expect(Object.keys(response.json.error.details)).toEqual([field]);
  });

  it('retry: a failed delivery is sent again (202), and succeeds', async () => {
    const created = await api('POST', '/webhooks', { body: { url: receiver.url, events: ['execution.completed'] } });
    const id = created.json.id;
    receiver.failNext(1, 500);
    const sent = await api('POST', `/webhooks/${id}/test`);
    await service.deliverDue();
    const failed = await api('GET', `/webhooks/${id}/deliveries/${sent.json.delivery.id}`);
    expect(failed.json).toMatchObject({ status: 'failed', last_status_code: 500, last_error: 'http' });
    // The exhausted retry schedule paused the endpoint; a retry while paused is held.
    expect((await api('GET', `/webhooks/${id}`)).json).toMatchObject({ status: 'paused', active: false, paused_reason: 'failing' });
    const held = await api('POST', `/webhooks/${id}/deliveries/${sent.json.delivery.id}/retry`);
    expect(held.status).toBe(202);
    expect(held.json).toMatchObject({ id: sent.json.delivery.id, status: 'held' });
    await api('PATCH', `/webhooks/${id}`, { body: { status: 'active' } });
    await service.deliverDue();
    const done = await api('GET', `/webhooks/${id}/deliveries/${sent.json.delivery.id}`);
    expect(done.json).toMatchObject({ status: 'succeeded', attempt_count: 2 });
    expect(done.json.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 200]);
    const again = await api('POST', `/webhooks/${id}/deliveries/${sent.json.delivery.id}/retry`, { body: {} });
    expect(again.status).toBe(202);
    expect(again.json.status).toBe('pending');
    expectEnvelope(await api('POST', `/webhooks/${id}/deliveries/${sent.json.delivery.id}/retry`, { body: { now: true } }), 422, 'VALIDATION_FAILED');
  });

  it('replay: finished deliveries in [since, until) are sent again; answers { replayed }', async () => {
    const { endpoint, event } = await delivered();
    const since = new Date(Date.now() - 60_000).toISOString();
    const response = await api('POST', `/webhooks/${endpoint.id}/replay`, { body: { since } });
    expect(response.status).toBe(202);
    expect(response.json).toEqual({ replayed: 1 });
    await service.deliverDue();
    expect(receiver.requests.filter((r) => (r.json as { id: string }).id === event.id)).toHaveLength(2);
    const none = await api('POST', `/webhooks/${endpoint.id}/replay`, { body: { since, until: since.replace(/Z$/, '+00:00') } });
    expectEnvelope(none, 422, 'VALIDATION_FAILED');
    expect(none.json.error.details).toEqual({ until: 'must be after since' });
    const failedOnly = await api('POST', `/webhooks/${endpoint.id}/replay`, { body: { since, status: 'failed' } });
    expect(failedOnly.json).toEqual({ replayed: 0 });
  });

  it.each([
    ['no since', {}, ['since']],
    ['a since that is not a date', { since: 'last week' }, ['since']],
    ['a since of the wrong type', { since: 1714000000 }, ['since']],
    ['a since on a day that does not exist', { since: '2026-02-29T00:00:00Z' }, ['since']],
    ['an until before since', { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' }, ['until']],
    ['a status replay cannot take', { since: '2026-02-01T00:00:00Z', status: 'pending' }, ['status']],
    ['an unknown field', { since: '2026-02-01T00:00:00Z', endpoint_id: 'x' }, ['endpoint_id']],
    ['several problems', { until: 'x', colour: 1 }, ['colour', 'since', 'until']],
  ])('replay with %s is 422 keyed by field', async (_, body, fields) => {
    const created = await api('POST', '/webhooks', { body: { url: receiver.url, events: ['execution.completed'] } });
    const response = await api('POST', `/webhooks/${created.json.id}/replay`, { body });
    expectEnvelope(response, 422, 'VALIDATION_FAILED');
    expect(Object.keys(response.json.error.details).sort()).toEqual(fields);
  });

  it("another organization's endpoint or delivery ids are 404 on every delivery route", async () => {
    const { endpoint, delivery } = await delivered('rw1');
    const other = await api('POST', '/webhooks', { token: 'rw2', body: { url: receiver.url, events: ['execution.completed'] } });
    const before = await api('GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`);
    const attempts: [string, string, unknown?][] = [
      ['POST', `/webhooks/${endpoint.id}/test`],
      ['GET', `/webhooks/${endpoint.id}/deliveries`],
      ['GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`],
      ['POST', `/webhooks/${endpoint.id}/deliveries/${delivery.id}/retry`],
      ['POST', `/webhooks/${endpoint.id}/replay`, { since: '2020-01-01T00:00:00Z' }],
      // Their own endpoint id with org_1's delivery id.
      ['GET', `/webhooks/${other.json.id}/deliveries/${delivery.id}`],
      ['POST', `/webhooks/${other.json.id}/deliveries/${delivery.id}/retry`],
    ];
    for (const [method, path, body] of attempts) expectEnvelope(await api(method, path, { token: 'rw2', body }), 404, 'NOT_FOUND');
    await service.deliverDue();
    expect(receiver.requests).toHaveLength(1);
    expect((await api('GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`)).json).toEqual(before.json);
  });

  it("a delivery of another endpoint of the same org is 404 under this one", async () => {
    const a = await delivered();
    const b = await api('POST', '/webhooks', { body: { url: receiver.url, events: ['execution.completed'] } });
    expectEnvelope(await api('GET', `/webhooks/${b.json.id}/deliveries/${a.delivery.id}`), 404, 'NOT_FOUND');
    expectEnvelope(await api('POST', `/webhooks/${b.json.id}/deliveries/${a.delivery.id}/retry`), 404, 'NOT_FOUND');
    expectEnvelope(await api('GET', `/webhooks/${a.endpoint.id}/deliveries/dlv_01JTBQH2FZ8K1RXC0WJ4Z9P3VM`), 404, 'NOT_FOUND');
    expectEnvelope(await api('GET', `/webhooks/${a.endpoint.id}/deliveries/nope`), 404, 'NOT_FOUND');
  });

  it('delivery routes of a deleted endpoint are 404', async () => {
    const { endpoint, delivery } = await delivered();
    await api('DELETE', `/webhooks/${endpoint.id}`);
    expectEnvelope(await api('GET', `/webhooks/${endpoint.id}/deliveries`), 404, 'NOT_FOUND');
    expectEnvelope(await api('GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`), 404, 'NOT_FOUND');
    expectEnvelope(await api('POST', `/webhooks/${endpoint.id}/test`), 404, 'NOT_FOUND');
  });

  it('reads need webhooks:read, sends webhooks:write, and every route needs credentials', async () => {
    const { endpoint, delivery } = await delivered();
    const routes: [string, string, boolean, unknown?][] = [
      ['POST', `/webhooks/${endpoint.id}/test`, true],
      ['GET', `/webhooks/${endpoint.id}/deliveries`, false],
      ['GET', `/webhooks/${endpoint.id}/deliveries/${delivery.id}`, false],
      ['POST', `/webhooks/${endpoint.id}/deliveries/${delivery.id}/retry`, true],
      ['POST', `/webhooks/${endpoint.id}/replay`, true, { since: '2020-01-01T00:00:00Z' }],
    ];
    for (const [method, path, write, body] of routes) {
      expectEnvelope(await api(method, path, { token: null, body }), 401, 'UNAUTHORIZED');
      expectEnvelope(await api(method, path, { token: write ? 'r1' : 'w1', body }), 403, 'FORBIDDEN');
    }
    await service.deliverDue();
    expect(receiver.requests).toHaveLength(1);
  });

  it("format: 'camelCase' names delivery fields and query parameters in camelCase", async () => {
    const { endpoint, event } = await delivered();
    const camel = await harness.mount(service, { format: 'camelCase' });
    try {
      const capi = client(camel.baseUrl);
      const list = await capi('GET', `/webhooks/${endpoint.id}/deliveries?eventId=${event.id}`);
      expect(list.status).toBe(200);
      expect(Object.keys(list.json).sort()).toEqual(['data', 'nextCursor']);
      expect(list.json.data[0]).toMatchObject({ eventId: event.id, endpointId: endpoint.id, attemptCount: 1 });
      const detail = await capi('GET', `/webhooks/${endpoint.id}/deliveries/${list.json.data[0].id}`);
      expect(detail.json.attempts[0]).toMatchObject({ attemptNumber: 1, statusCode: 200 });
      const snake = await capi('GET', `/webhooks/${endpoint.id}/deliveries?event_id=${event.id}`);
      expect(snake.json.error.details).toEqual({ event_id: 'unknown query parameter' });
    } finally {
      await camel.close();
    }
  });
});
