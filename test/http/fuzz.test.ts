import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/service.js';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { type Harness, HARNESSES, type Mounted, expressHarness, fastifyHarness, newService } from './harness.js';

const NUM_RUNS = 200;
const PARITY_RUNS = 150;
const HOOK_URL = 'https://hooks.example.com/fuzz';
/** Set by fetch or owned by HTTP framing; random values would test the client, not the API. */
const FRAMING_HEADERS = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection', 'http2-settings',
]);

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

// Paths name ids by placeholder (`{e0}`: org_1's endpoint), so the same request can go to servers whose ids differ.
const safeText = fc.stringMatching(/^[A-Za-z0-9._~-]{0,24}$/).filter((t) => t !== '.' && t !== '..');
const endpointId = fc.constantFrom('{e0}', '{e1}');
const deliveryId = fc.constantFrom('{d0}', '{d1}');
const hexDigit = fc.constantFrom(...'0123456789abcdefABCDEF');
const validEscape = fc.tuple(hexDigit, hexDigit).map(([high, low]) => `%${high}${low}`);
// Bad hex, truncated, overlong and surrogate UTF-8, beyond U+10FFFF.
const invalidEscape = fc.constantFrom('%', '%4', '%zz', '%G0', '%%', '%E0%A4%A', '%E0%A4', '%C0%AF', '%FF', '%ED%A0%80', '%F4%90%80%80');
const encodedUnicode = fc.string({ unit: 'grapheme', maxLength: 4 }).map(encodeURIComponent);
// Sent as is: fetch percent-encodes what needs it (a lone surrogate as U+FFFD).
const rawUnicode = fc.string({ unit: 'binary', maxLength: 4 }).map((t) => t.replace(/[/?#\\]/g, ''));
const segmentText = fc
  .array(fc.oneof(safeText, validEscape, invalidEscape, encodedUnicode, rawUnicode), { minLength: 1, maxLength: 4 })
  .map((pieces) => pieces.join(''))
  // fetch resolves `.` and `..` (also spelled `%2e`), which would leave the API's paths.
  .filter((t) => !/^(?:\.|%2e){1,2}$/i.test(t));
const segment = fc.oneof(
  fc.constantFrom('webhooks', 'event-types', 'rotate', 'test', 'deliveries', 'retry', 'replay', 'dlv_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', ''),
  endpointId,
  deliveryId,
  fc.constantFrom('{escaped-e0}', '{escaped-e1}'),
  segmentText,
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
const namespace = fc.constantFrom('webhooks', 'event-types', '%77ebhooks', 'webhook%73', 'event%2Dtypes');
const randomPath = fc.tuple(namespace, fc.array(segment, { maxLength: 4 })).map(([first, rest]) => `/${[first, ...rest].join('/')}`);
const path = fc.oneof({ arbitrary: routePath, weight: 3 }, { arbitrary: randomPath, weight: 2 });
const queryName = fc.constantFrom('limit', 'cursor', 'status', 'since', 'x', 'event_id', '__proto__');
const encodedQuery = fc.array(fc.tuple(queryName, safeText), { maxLength: 3 }).map((pairs) => new URLSearchParams(pairs).toString());
const rawQuery = fc.array(fc.tuple(queryName, segmentText), { maxLength: 3 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
const query = fc.option(fc.oneof(encodedQuery, rawQuery), { nil: undefined });
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
// Any value fetch can send: Latin-1 bytes without controls or DEL (fetch trims the ends itself).
const latin1Char = fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c));
const headerValue = fc.string({ unit: latin1Char, maxLength: 40 });
const headerName = fc
  .oneof(
    fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/),
    fc.constantFrom('accept', 'accept-version', 'content-encoding', 'cookie', 'origin', 'x-http-method-override', 'x-forwarded-proto', 'Authorization', 'Content-Type'),
  )
  .filter((name) => !FRAMING_HEADERS.has(name.toLowerCase()));
const headers = fc
  .tuple(
    fc.record(
      {
        authorization: fc.oneof(
          { arbitrary: fc.constant('Bearer rw1'), weight: 4 },
          { arbitrary: fc.constantFrom('Bearer r1', 'Bearer w1', 'Bearer rw2', 'Bearer none1', 'Bearer nope', 'Basic abc', ''), weight: 3 },
          { arbitrary: headerValue, weight: 1 },
        ),
        'content-type': fc.oneof(
          { arbitrary: fc.constant('application/json'), weight: 4 },
          { arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'x/y'), weight: 2 },
          { arbitrary: headerValue, weight: 1 },
        ),
        'x-request-id': fc.oneof(safeText, headerValue),
        'x-anything': safeText,
      },
      { requiredKeys: ['authorization'] },
    ),
    fc.dictionary(headerName, headerValue, { maxKeys: 3 }),
  )
  // The random names go first: a name already given (in any case) is combined, as fetch does.
  .map(([known, random]) => {
    const combined = new Headers(random);
    for (const [name, value] of Object.entries(known)) combined.append(name, value);
    return Object.fromEntries(combined);
  });
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

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

interface Seeded {
  service: WebhookService;
  mounted: Mounted;
  /** Placeholder → id: each org's endpoint (also with `_` escaped) and a finished delivery, so retry and replay have work. */
  ids: Record<string, string>;
}

async function seed(harness: Harness, receiverUrl: string): Promise<Seeded> {
  const service = newService();
  const mounted = await harness.mount(service);
  const ids: Record<string, string> = {};
  for (const [i, org] of ['org_1', 'org_2'].entries()) {
    const { endpoint } = await service.create(org, { url: receiverUrl, events: ['wallet.balance_low'] });
    ids[`{e${i}}`] = endpoint.id;
    ids[`{escaped-e${i}}`] = `wh%5F${endpoint.id.slice('wh_'.length)}`;
    ids[`{d${i}}`] = (await service.sendTestEvent(org, endpoint.id)).delivery.id;
  }
  await service.deliverDue();
  return { service, mounted, ids };
}

async function close(seeded: Seeded | undefined): Promise<void> {
  await seeded?.mounted.close();
  await seeded?.service.stop();
}

async function send(seeded: Seeded, { method, path, query, headers, body }: FuzzRequest) {
  const resolved = path.replace(/\{[a-z0-9-]+\}/g, (slot) => seeded.ids[slot] ?? slot);
  const url = `${seeded.mounted.baseUrl}${resolved}${query ? `?${query}` : ''}`;
  const sendBody = method === 'GET' || method === 'HEAD' ? undefined : body;
  const response = await fetch(url, { method, headers, body: sendBody });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, context: `${method} ${url} ${JSON.stringify(headers)}` };
}

/** What must be the same whichever framework answers: the status, the error code, `Allow`. */
function outcome({ status, headers, text }: { status: number; headers: Headers; text: string }): unknown {
  const code = status >= 400 && text !== '' ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
  return { status, code, allow: headers.get('allow') };
}

describe.each(HARNESSES)('REST API over $name: fuzzing', (harness: Harness) => {
  let receiver: TestReceiver;
  let seeded: Seeded;

  beforeAll(async () => {
    receiver = await createTestReceiver();
    seeded = await seed(harness, receiver.url);
  });
  afterAll(async () => {
    await close(seeded);
    await receiver.close();
  });

  it('never answers 5xx, always answers errors with the envelope, and rejected requests change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const before = await snapshot(seeded.service);
        const { status, headers, text, context } = await send(seeded, req);
        expect(status, `${context} → ${text}`).toBeLessThan(500);
        if (status >= 400) {
          const requestId = headers.get('x-request-id');
          expect(requestId, `${context} → ${status} ${text}`).toBeTruthy();
          if (req.method !== 'HEAD') {
            const json = JSON.parse(text);
            expect(json, context).toEqual({
              success: false,
              error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), request_id: requestId }),
            });
          }
          expect(await snapshot(seeded.service), `${context} (${status}) changed state`).toBe(before);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('REST API fuzzing: Express and Fastify answer alike', () => {
  let receiver: TestReceiver;
  let express: Seeded | undefined;
  let fastify: Seeded | undefined;

  beforeAll(async () => {
    receiver = await createTestReceiver();
    express = await seed(expressHarness, receiver.url);
    fastify = await seed(fastifyHarness, receiver.url);
  });
  afterAll(async () => {
    await close(express);
    await close(fastify);
    await receiver.close();
  });

  // Same requests in the same order, so both services' states move alike.
  it('gives every request the same status and error code on both adapters', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const viaExpress = await send(express as Seeded, req);
        const viaFastify = await send(fastify as Seeded, req);
        const both = `${viaFastify.context}\nexpress → ${viaExpress.text}\nfastify → ${viaFastify.text}`;
        expect(outcome(viaFastify), both).toEqual(outcome(viaExpress));
      }),
      { numRuns: PARITY_RUNS },
    );
  });
});
