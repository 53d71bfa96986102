import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/service.js';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { type Harness, HARNESSES, type Mounted, newService } from './harness.js';

const NUM_RUNS = 200;
const HOOK_URL = 'https://hooks.example.com/fuzz';

/** Everything storage holds for both orgs, secrets and deliveries included: a rejected request must leave it as it was. */
async function snapshot(service: WebhookService): Promise<string> {
  const orgs = await Promise.all(
    ['org_1', 'org_2'].map(async (org) => [
      await service.storage.listEndpoints(org, { limit: 1000 }),
      await service.storage.listDeliveries(org, { limit: 1000 }),
    ]),
  );
  return JSON.stringify(orgs);
}

describe.each(HARNESSES)('REST API over $name: fuzzing', (harness: Harness) => {
  let service: WebhookService;
  let mounted: Mounted;
  let receiver: TestReceiver;
  /** Each org's endpoint id, then each org's delivery id (a finished one, so retry and replay have work). */
  const ids: string[] = [];

  beforeAll(async () => {
    receiver = await createTestReceiver();
    service = newService();
    mounted = await harness.mount(service);
    const deliveries: string[] = [];
    for (const org of ['org_1', 'org_2']) {
      const { endpoint } = await service.create(org, { url: receiver.url, events: ['wallet.balance_low'] });
      ids.push(endpoint.id);
      deliveries.push((await service.sendTestEvent(org, endpoint.id)).delivery.id);
    }
    await service.deliverDue();
    ids.push(...deliveries);
  });
  afterAll(async () => {
    await mounted.close();
    await service.stop();
    await receiver.close();
  });

  const safeText = fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/).filter((t) => t !== '.' && t !== '..');
  const endpointId = fc.constantFrom(0, 1).map((i) => ids[i] as string);
  const deliveryId = fc.constantFrom(2, 3).map((i) => ids[i] as string);
  const segment = fc.oneof(
    fc.constantFrom('webhooks', 'event-types', 'rotate', 'test', 'deliveries', 'retry', 'replay', 'dlv_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', ''),
    endpointId,
    deliveryId,
    safeText,
  );
  // Mostly real routes (with real and foreign ids) so requests get past routing and auth into
  // body parsing, validation and the service; the rest is arbitrary paths under the API.
  const routePath = fc.oneof(
    fc.constant('/webhooks'),
    fc.constant('/event-types'),
    endpointId.map((id) => `/webhooks/${id}`),
    fc.tuple(endpointId, fc.constantFrom('rotate', 'test', 'replay', 'deliveries')).map(([id, action]) => `/webhooks/${id}/${action}`),
    fc.tuple(endpointId, deliveryId).map(([id, dlv]) => `/webhooks/${id}/deliveries/${dlv}`),
    fc.tuple(endpointId, deliveryId).map(([id, dlv]) => `/webhooks/${id}/deliveries/${dlv}/retry`),
  );
  const randomPath = fc
    .tuple(fc.constantFrom('webhooks', 'event-types'), fc.array(segment, { maxLength: 4 }))
    .map(([first, rest]) => `/${[first, ...rest].join('/')}`);
  const path = fc.oneof({ arbitrary: routePath, weight: 3 }, { arbitrary: randomPath, weight: 1 });
  const query = fc.option(
    fc.array(fc.tuple(fc.constantFrom('limit', 'cursor', 'status', 'since', 'x', 'event_id'), safeText), { maxLength: 3 }).map((pairs) =>
      new URLSearchParams(pairs).toString(),
    ),
    { nil: undefined },
  );
  const fieldValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(HOOK_URL, 'http://127.0.0.1/x', ['wallet.balance_low'], ['nope'], 'paused', 'active', '2026-01-01T00:00:00Z', null),
  );
  const objectBody = fc.dictionary(
    fc.constantFrom('url', 'events', 'description', 'api_version', 'apiVersion', 'filter', 'status', 'since', 'until', '__proto__', 'constructor', 'x'),
    fieldValue,
    { maxKeys: 5 },
  );
  const body = fc.oneof(
    fc.constant(undefined),
    objectBody.map((o) => JSON.stringify(o)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 60 }),
    fc.constantFrom('{', '[1,', '{"url":', '\u0000', 'null', '""'),
  );
  const headers = fc.record(
    {
      authorization: fc.oneof(
        { arbitrary: fc.constant('Bearer rw1'), weight: 4 },
        { arbitrary: fc.constantFrom('Bearer r1', 'Bearer w1', 'Bearer rw2', 'Bearer none1', 'Bearer nope', 'Basic abc', ''), weight: 3 },
      ),
      'content-type': fc.oneof(
        { arbitrary: fc.constant('application/json'), weight: 4 },
        { arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'x/y'), weight: 2 },
      ),
      'x-request-id': safeText,
      'x-anything': safeText,
    },
    { requiredKeys: ['authorization'] },
  );
  const request = fc.record({
    method: fc.oneof(
      { arbitrary: fc.constantFrom('GET', 'POST', 'PATCH'), weight: 3 },
      { arbitrary: fc.constantFrom('PUT', 'DELETE', 'HEAD'), weight: 1 },
    ),
    path,
    query,
    headers,
    body,
  });

  it('never answers 5xx, always answers errors with the envelope, and rejected requests change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, query, headers, body }) => {
        const before = await snapshot(service);
        const url = `${mounted.baseUrl}${path}${query ? `?${query}` : ''}`;
        const sendBody = method === 'GET' || method === 'HEAD' ? undefined : body;
        const response = await fetch(url, { method, headers, body: sendBody });
        const text = await response.text();
        expect(response.status, `${method} ${url} → ${text}`).toBeLessThan(500);
        if (response.status >= 400) {
          const requestId = response.headers.get('x-request-id');
          expect(requestId).toBeTruthy();
          if (method !== 'HEAD') {
            const json = JSON.parse(text);
            expect(json).toEqual({
              success: false,
              error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), request_id: requestId }),
            });
          }
          expect(await snapshot(service), `${method} ${url} (${response.status}) changed state`).toBe(before);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
