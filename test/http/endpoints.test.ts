import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/errors.js';
import type { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';
import {
  type Api,
  type Harness,
  HARNESSES,
  LEAKY_MESSAGE,
  type Mounted,
  client,
  newService,
  recordingLogger,
} from './harness.js';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const HOOK_URL = 'https://hooks.example.com/y3labs/ops';

function expectEnvelope(response: { status: number; json: any; headers: Headers }, status: number, code: string): void {
  expect(response.status, JSON.stringify(response.json)).toBe(status);
  expect(response.json.success).toBe(false);
  expect(response.json.error.code).toBe(code);
  expect(typeof response.json.error.message).toBe('string');
  expect(response.json.error.request_id).toBe(response.headers.get('x-request-id'));
  expect(Object.keys(response.json).sort()).toEqual(['error', 'success']);
}

describe.each(HARNESSES)('REST API over $name: endpoints', (harness: Harness) => {
  let service: WebhookService;
  let mounted: Mounted;
  let api: Api;

  beforeAll(async () => {
    service = newService();
    mounted = await harness.mount(service);
    api = client(mounted.baseUrl);
  });
  afterAll(() => mounted.close());

  beforeEach(async () => {
    for (const org of ['org_1', 'org_2']) {
      for (const e of (await service.list(org, { limit: 100 })).data) await service.delete(org, e.id);
    }
  });

  const create = async (body: Record<string, unknown> = {}, token: 'rw1' | 'rw2' = 'rw1') => {
    const response = await api('POST', '/webhooks', { token, body: { url: HOOK_URL, events: ['wallet.balance_low'], ...body } });
    expect(response.status, response.text).toBe(201);
    return response.json;
  };

  describe('POST /webhooks', () => {
    it('answers 201 with the seed fields, the secret, and secret_displayed_once: true', async () => {
      const response = await api('POST', '/webhooks', {
        body: { url: HOOK_URL, events: ['wallet.balance_low'], description: 'ops', api_version: '2026-04-01', filter: { agentId: 'agt_1' } },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-request-id')).toMatch(ULID);
      const body = response.json;
      expect(Object.keys(body).sort()).toEqual(
        [
          'id', 'org_id', 'url', 'events', 'description', 'filter', 'api_version', 'active', 'status',
          'paused_reason', 'created_at', 'updated_at', 'deleted_at', 'secret', 'secret_displayed_once',
        ].sort(),
      );
      expect(body).toMatchObject({
        org_id: 'org_1',
        url: HOOK_URL,
        events: ['wallet.balance_low'],
        description: 'ops',
        filter: { agentId: 'agt_1' },
        api_version: '2026-04-01',
        active: true,
        status: 'active',
        paused_reason: null,
        deleted_at: null,
        secret_displayed_once: true,
      });
      expect(body.id).toMatch(/^wh_[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(body.created_at).toMatch(ISO_UTC);
      expect(body.updated_at).toMatch(ISO_UTC);
    });

    it('defaults api_version to the current one and description/filter to null', async () => {
      const body = await create();
      expect(body).toMatchObject({ api_version: '2026-04-01', description: null, filter: null });
    });

    // Seed: "Validation: … A bad scheme returns 422 VALIDATION_FAILED with details.url." (checked on a
    // mount without allowHttp below); here the rules that hold whatever the URL policy.
    const invalid: [string, Record<string, unknown>, string][] = [
      ['url that is not a URL', { url: 'not a url' }, 'url'],
      ['url with a non-http scheme', { url: 'ftp://hooks.example.com/x' }, 'url'],
      ['url with credentials', { url: 'https://user:pw@hooks.example.com/x' }, 'url'],
      ['url longer than 2048 characters', { url: `https://hooks.example.com/${'a'.repeat(2048)}` }, 'url'],
      ['url of the wrong type', { url: 42 }, 'url'],
      // "events must be 1 to 50 entries, each a known event type. Duplicates and unknown names return 422 … in details.events."
      ['no events', { events: [] }, 'events'],
      ['51 events', { events: Array.from({ length: 51 }, () => 'wallet.balance_low') }, 'events'],
      ['duplicate events', { events: ['wallet.balance_low', 'wallet.balance_low'] }, 'events'],
      ['unknown event', { events: ['wallet.nope'] }, 'events'],
      ['events not an array', { events: 'wallet.balance_low' }, 'events'],
      ['events with a non-string', { events: [1] }, 'events'],
      // "description must be 200 characters or fewer; longer values return 422 VALIDATION_FAILED."
      ['description of 201 characters', { description: 'd'.repeat(201) }, 'description'],
      ['description of the wrong type', { description: 5 }, 'description'],
      // "api_version must be a supported version; unknown or deprecated versions return 422 VALIDATION_FAILED."
      ['unknown api_version', { api_version: '1999-01-01' }, 'api_version'],
      ['deprecated api_version', { api_version: '2025-01-01' }, 'api_version'],
      ['api_version of the wrong type', { api_version: 20260401 }, 'api_version'],
      ['filter that is not an object', { filter: ['a'] }, 'filter'],
      ['filter with a nested value', { filter: { a: { b: 1 } } }, 'filter'],
      ['an unknown field', { colour: 'red' }, 'colour'],
      ['the camelCase spelling in a snake_case API', { apiVersion: '2026-04-01' }, 'apiVersion'],
      ['secret set by the caller', { secret: 'whsec_mine' }, 'secret'],
    ];
    it.each(invalid)('rejects %s with 422 VALIDATION_FAILED keyed by the field, writing nothing', async (_, patch, field) => {
      const response = await api('POST', '/webhooks', { body: { url: HOOK_URL, events: ['wallet.balance_low'], ...patch } });
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(response.json.error.message).toBe('validation failed');
      expect(Object.keys(response.json.error.details)).toEqual([field]);
      expect(typeof response.json.error.details[field]).toBe('string');
      expect((await service.list('org_1')).data).toHaveLength(0);
    });

    it('accepts exactly 200 characters of description and exactly 50 events', async () => {
      const many = Array.from({ length: 50 }, (_, i) => `wallet.balance_low${i}`);
      const local = newService({ eventTypes: many });
      const other = await harness.mount(local);
      try {
        const response = await client(other.baseUrl)('POST', '/webhooks', { body: { url: HOOK_URL, events: many, description: 'é'.repeat(200) } });
        expect(response.status, response.text).toBe(201);
        expect(response.json.events).toHaveLength(50);
      } finally {
        await other.close();
      }
    });

    it('reports every problem at once, unknown fields included', async () => {
      const response = await api('POST', '/webhooks', { body: { url: 'ftp://x', events: [], description: 'd'.repeat(201), api_version: 'x', extra: 1 } });
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(Object.keys(response.json.error.details).sort()).toEqual(['api_version', 'description', 'events', 'extra', 'url']);
    });

    it.each([
      ['an array', []],
      ['a string', '"https://x"'],
      ['null', 'null'],
      ['a number', '5'],
    ])('rejects a body that is %s with 422 details.body', async (_, raw) => {
      const body = typeof raw === 'string' ? raw : JSON.stringify(raw);
      const response = await api('POST', '/webhooks', { body, headers: { 'content-type': 'application/json' } });
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(response.json.error.details).toEqual({ body: 'must be a JSON object' });
    });

    it('rejects a missing body with 422 details.body', async () => {
      expectEnvelope(await api('POST', '/webhooks'), 422, 'VALIDATION_FAILED');
    });

    // Compared as JSON text: `toEqual({ __proto__: … })` is `toEqual({})` in JS and would prove nothing.
    it('does not let __proto__ in the body reach the stored endpoint, and names it in details', async () => {
      const raw = `{"url":"${HOOK_URL}","events":["wallet.balance_low"],"__proto__":{"polluted":true}}`;
      const response = await api('POST', '/webhooks', { body: raw, headers: { 'content-type': 'application/json' } });
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(response.text).toContain('"details":{"__proto__":"unknown field"}');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((await api('GET', '/webhooks')).json.data).toEqual([]);
    });

    it('names __proto__, constructor and prototype as unknown fields on every route that takes a body', async () => {
      const { id } = await create();
      const hostile = '"__proto__":1,"constructor":2,"prototype":3';
      const expected = '{"__proto__":"unknown field","constructor":"unknown field","prototype":"unknown field"}';
      const requests: [string, string, string][] = [
        ['POST', '/webhooks', `{"url":"${HOOK_URL}","events":["wallet.balance_low"],${hostile}}`],
        ['PATCH', `/webhooks/${id}`, `{"description":"x",${hostile}}`],
        ['POST', `/webhooks/${id}/rotate`, `{${hostile}}`],
      ];
      for (const [method, path, body] of requests) {
        const response = await api(method, path, { body, headers: { 'content-type': 'application/json' } });
        expectEnvelope(response, 422, 'VALIDATION_FAILED');
        expect(JSON.stringify(JSON.parse(response.text).error.details), `${method} ${path}`).toBe(expected);
      }
    });

    // Seed: "Your organization can hold up to 50 active endpoints. Exceeding the cap returns 409 LIMIT_EXCEEDED."
    it('holds the 50-endpoint cap under 60 concurrent creates', async () => {
      const responses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => api('POST', '/webhooks', { body: { url: `${HOOK_URL}/${i}`, events: ['wallet.balance_low'] } })),
      );
      const created = responses.filter((r) => r.status === 201);
      const refused = responses.filter((r) => r.status !== 201);
      expect(created).toHaveLength(50);
      expect(refused).toHaveLength(10);
      for (const r of refused) {
        expectEnvelope(r, 409, 'LIMIT_EXCEEDED');
        expect(r.json.error.message).toBe('webhook endpoint limit reached (max 50)');
      }
      const all = await api('GET', '/webhooks?limit=100');
      expect(all.json.data).toHaveLength(50);
      // Another org is not affected by org_1 being full.
      await create({}, 'rw2');
    });
  });

  describe('reads', () => {
    it('GET /webhooks/:id answers the endpoint without its secret', async () => {
      const created = await create({ description: 'ops' });
      const response = await api('GET', `/webhooks/${created.id}`);
      expect(response.status).toBe(200);
      const { secret, secret_displayed_once, ...endpoint } = created;
      expect(response.json).toEqual(endpoint);
      expect(response.text).not.toContain(secret);
      expect(response.json).not.toHaveProperty('secret');
      expect(response.json).not.toHaveProperty('secret_displayed_once');
    });

    it('no read, update or delete answer carries a secret', async () => {
      const created = await create();
      const rotated = await api('POST', `/webhooks/${created.id}/rotate`);
      const secrets = [created.secret, rotated.json.secret];
      const reads = [
        await api('GET', `/webhooks/${created.id}`),
        await api('GET', '/webhooks'),
        await api('GET', '/event-types'),
        await api('PATCH', `/webhooks/${created.id}`, { body: { description: 'changed' } }),
        await api('DELETE', `/webhooks/${created.id}`),
      ];
      for (const read of reads) {
        expect(read.status).toBe(200);
        for (const secret of secrets) expect(read.text).not.toContain(secret);
        expect(read.text).not.toMatch(/"secret/);
      }
    });

    it('GET /webhooks pages newest first with limit and next_cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await create({ description: `n${i}` })).id);
      const first = await api('GET', '/webhooks?limit=2');
      expect(first.status).toBe(200);
      expect(Object.keys(first.json).sort()).toEqual(['data', 'next_cursor']);
      expect(first.json.data.map((e: { id: string }) => e.id)).toEqual([ids[4], ids[3]]);
      const second = await api('GET', `/webhooks?limit=2&cursor=${first.json.next_cursor}`);
      expect(second.json.data.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
      const last = await api('GET', `/webhooks?limit=2&cursor=${second.json.next_cursor}`);
      expect(last.json).toEqual({ data: [expect.objectContaining({ id: ids[0] })], next_cursor: null });
      const all = await api('GET', '/webhooks');
      expect(all.json.data).toHaveLength(5);
      expect(all.json.next_cursor).toBeNull();
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=1.5', 'limit'],
      ['cursor=nope', 'cursor'],
      ['cursor=dlv_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'cursor'],
      ['colour=red', 'colour'],
      ['limit=1&limit=2', 'limit'],
    ])('GET /webhooks?%s is 422 keyed by %s', async (query, field) => {
      const response = await api('GET', `/webhooks?${query}`);
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(Object.keys(response.json.error.details)).toEqual([field]);
    });

    it('names a __proto__ query parameter in details', async () => {
      const response = await api('GET', '/webhooks?__proto__=1&constructor=2');
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(response.text).toContain('"details":{"__proto__":"unknown query parameter","constructor":"unknown query parameter"}');
    });

    it('rejects unknown query parameters on every other route', async () => {
      const { id } = await create();
      expectEnvelope(await api('GET', `/webhooks/${id}?expand=secret`), 422, 'VALIDATION_FAILED');
      expectEnvelope(await api('GET', '/event-types?x=1'), 422, 'VALIDATION_FAILED');
      expectEnvelope(await api('DELETE', `/webhooks/${id}?force=1`), 422, 'VALIDATION_FAILED');
      expect((await api('GET', `/webhooks/${id}`)).status).toBe(200);
    });

    it('GET /event-types lists the catalog and the api versions', async () => {
      const response = await api('GET', '/event-types', { token: 'r1' });
      expect(response.status).toBe(200);
      expect(response.json).toEqual({
        data: [{ type: 'execution.completed' }, { type: 'execution.failed' }, { type: 'tool.error' }, { type: 'wallet.balance_low' }],
        api_versions: { supported: ['2026-04-01', '2025-01-01'], deprecated: ['2025-01-01'], current: '2026-04-01' },
      });
    });

    it('HEAD answers like GET without a body', async () => {
      const { id } = await create();
      const response = await api('HEAD', `/webhooks/${id}`);
      expect(response.status).toBe(200);
      expect(response.text).toBe('');
      expect(response.headers.get('x-request-id')).toMatch(ULID);
    });

    it('an unknown id, a malformed id and a deleted endpoint are all 404 NOT_FOUND', async () => {
      const { id } = await create();
      await api('DELETE', `/webhooks/${id}`);
      for (const missing of [id, 'wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'nope', 'wh_%20', 'wh_%2Fx']) {
        expectEnvelope(await api('GET', `/webhooks/${missing}`), 404, 'NOT_FOUND');
      }
    });
  });

  describe('writes', () => {
    it('PATCH changes events, url and description and answers the endpoint', async () => {
      const created = await create();
      const response = await api('PATCH', `/webhooks/${created.id}`, {
        body: { events: ['execution.completed', 'execution.failed'], url: `${HOOK_URL}/v2`, description: null },
      });
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({
        id: created.id,
        events: ['execution.completed', 'execution.failed'],
        url: `${HOOK_URL}/v2`,
        description: null,
      });
      expect(response.json).not.toHaveProperty('secret');
      expect(Date.parse(response.json.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
    });

    it('PATCH status pauses and resumes; active is true exactly when status is active', async () => {
      const { id } = await create();
      const paused = await api('PATCH', `/webhooks/${id}`, { body: { status: 'paused' } });
      expect(paused.json).toMatchObject({ status: 'paused', active: false, paused_reason: 'manual' });
      expect((await api('GET', `/webhooks/${id}`)).json).toMatchObject({ status: 'paused', active: false });
      const resumed = await api('PATCH', `/webhooks/${id}`, { body: { status: 'active' } });
      expect(resumed.json).toMatchObject({ status: 'active', active: true, paused_reason: null });
    });

    it.each([
      ['status', { status: 'deleted' }],
      ['events', { events: [] }],
      ['url', { url: 'mailto:a@b.c' }],
      ['description', { description: 'x'.repeat(201) }],
      ['api_version', { api_version: '2026-04-01' }],
      ['org_id', { org_id: 'org_2' }],
      ['active', { active: false }],
    ])('PATCH rejects a bad %s with 422 and leaves the endpoint unchanged', async (field, body) => {
      const created = await create();
      const response = await api('PATCH', `/webhooks/${created.id}`, { body });
      expectEnvelope(response, 422, 'VALIDATION_FAILED');
      expect(Object.keys(response.json.error.details)).toEqual([field]);
      const { secret, secret_displayed_once, ...before } = created;
      expect((await api('GET', `/webhooks/${created.id}`)).json).toEqual(before);
    });

    it('DELETE answers { id, deleted: true }, then the endpoint is gone', async () => {
      const { id } = await create();
      const response = await api('DELETE', `/webhooks/${id}`);
      expect(response.status).toBe(200);
      expect(response.json).toEqual({ id, deleted: true });
      expectEnvelope(await api('GET', `/webhooks/${id}`), 404, 'NOT_FOUND');
      expectEnvelope(await api('DELETE', `/webhooks/${id}`), 404, 'NOT_FOUND');
      expect((await api('GET', '/webhooks')).json.data).toEqual([]);
    });

    it('POST /webhooks/:id/rotate answers a new secret, shown once', async () => {
      const created = await create();
      const response = await api('POST', `/webhooks/${created.id}/rotate`);
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ id: created.id, secret_displayed_once: true });
      expect(response.json.secret).toMatch(/^whsec_/);
      expect(response.json.secret).not.toBe(created.secret);
      expect((await api('GET', `/webhooks/${created.id}`)).text).not.toContain(response.json.secret);
    });

    it('rotate accepts an empty JSON object but refuses fields', async () => {
      const { id } = await create();
      expect((await api('POST', `/webhooks/${id}/rotate`, { body: {} })).status).toBe(200);
      const refused = await api('POST', `/webhooks/${id}/rotate`, { body: { grace: '1h' } });
      expectEnvelope(refused, 422, 'VALIDATION_FAILED');
      expect(refused.json.error.details).toEqual({ grace: 'unknown field' });
    });
  });

  describe('authentication and scopes', () => {
    const routes = (id: string): [string, string, unknown?][] => [
      ['POST', '/webhooks', { url: HOOK_URL, events: ['wallet.balance_low'] }],
      ['GET', '/webhooks'],
      ['GET', `/webhooks/${id}`],
      ['PATCH', `/webhooks/${id}`, { description: 'x' }],
      ['DELETE', `/webhooks/${id}`],
      ['POST', `/webhooks/${id}/rotate`],
      ['GET', '/event-types'],
    ];
    const WRITES = new Set(['POST', 'PATCH', 'DELETE']);

    // Seed: authenticate returns nothing → 401 { code: UNAUTHORIZED, message: "authentication failed" }.
    it('answers 401 UNAUTHORIZED on every route without valid credentials', async () => {
      const { id } = await create();
      for (const [method, path, body] of routes(id)) {
        for (const token of [null, 'unknown-token'] as const) {
          const response = await api(method, path, { token, body });
          expectEnvelope(response, 401, 'UNAUTHORIZED');
          expect(response.json.error.message).toBe('authentication failed');
        }
      }
      expect((await service.list('org_1')).data).toHaveLength(1);
    });

    // Seed: "Requires the webhooks:write scope." → 403 { code: FORBIDDEN, message: "missing required scope" }.
    it('writes need webhooks:write and reads webhooks:read, else 403 FORBIDDEN', async () => {
      const { id } = await create();
      for (const [method, path, body] of routes(id)) {
        const write = WRITES.has(method);
        const denied = await api(method, path, { token: write ? 'r1' : 'w1', body });
        expectEnvelope(denied, 403, 'FORBIDDEN');
        expect(denied.json.error.message).toBe('missing required scope');
        expectEnvelope(await api(method, path, { token: 'none1', body }), 403, 'FORBIDDEN');
      }
      for (const [method, path, body] of routes(id)) {
        if (WRITES.has(method)) continue;
        expect((await api(method, path, { token: 'r1', body })).status).toBe(200);
      }
      expect((await service.get('org_1', id)).description).toBeNull();
    });

    it('checks credentials before reading the body', async () => {
      expectEnvelope(await api('POST', '/webhooks', { token: null, body: '{bad', headers: { 'content-type': 'application/json' } }), 401, 'UNAUTHORIZED');
      expectEnvelope(await api('POST', '/webhooks', { token: 'r1', body: 'x'.repeat(100_000), headers: { 'content-type': 'application/json' } }), 403, 'FORBIDDEN');
    });

    it('uses configured scope names', async () => {
      const local = newService();
      const other = await harness.mount(local, { scopes: { read: 'hooks.read', write: 'hooks.write' } });
      try {
        expectEnvelope(await client(other.baseUrl)('GET', '/webhooks'), 403, 'FORBIDDEN');
      } finally {
        await other.close();
      }
    });
  });

  describe('tenant isolation', () => {
    it("another organization's ids are 404 on every route, and nothing changes", async () => {
      const theirs = await create({ description: 'org_1 only' });
      const { secret, secret_displayed_once, ...before } = theirs;
      const attempts: [string, string, unknown?][] = [
        ['GET', `/webhooks/${theirs.id}`],
        ['PATCH', `/webhooks/${theirs.id}`, { description: 'mine now' }],
        ['PATCH', `/webhooks/${theirs.id}`, { status: 'paused' }],
        ['POST', `/webhooks/${theirs.id}/rotate`],
        ['DELETE', `/webhooks/${theirs.id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await api(method, path, { token: 'rw2', body });
        expectEnvelope(response, 404, 'NOT_FOUND');
        expect(response.text).not.toContain('org_1');
      }
      expect((await api('GET', '/webhooks', { token: 'rw2' })).json.data).toEqual([]);
      expect((await api('GET', `/webhooks/${theirs.id}`)).json).toEqual(before);
    });

    it('a cursor from another organization reveals nothing', async () => {
      await create();
      const mine = await create();
      const response = await api('GET', `/webhooks?cursor=${mine.id}`, { token: 'rw2' });
      expect(response.json).toEqual({ data: [], next_cursor: null });
    });
  });

  describe('request errors', () => {
    it('malformed JSON is 400 BAD_REQUEST', async () => {
      for (const raw of ['{bad', '{"url":', '\u0000', '{"a":1}}']) {
        expectEnvelope(await api('POST', '/webhooks', { body: raw, headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
      }
    });

    it('a body that is not UTF-8 is 400 BAD_REQUEST', async () => {
      const response = await fetch(`${mounted.baseUrl}/webhooks`, {
        method: 'POST',
        headers: { authorization: 'Bearer rw1', 'content-type': 'application/json' },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'])(
      'a %s body is 415 UNSUPPORTED_MEDIA_TYPE',
      async (contentType) => {
        const body = JSON.stringify({ url: HOOK_URL, events: ['wallet.balance_low'] });
        expectEnvelope(await api('POST', '/webhooks', { body, headers: { 'content-type': contentType } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect((await service.list('org_1')).data).toHaveLength(0);
      },
    );

    it('a JSON body without a content type is 415', async () => {
      const response = await fetch(`${mounted.baseUrl}/webhooks`, {
        method: 'POST',
        headers: { authorization: 'Bearer rw1' },
        body: new Blob([JSON.stringify({ url: HOOK_URL, events: ['wallet.balance_low'] })]),
      });
      expect(response.status).toBe(415);
    });

    it('accepts application/json with a utf-8 charset and +json media types', async () => {
      for (const contentType of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/merge-patch+json']) {
        const body = JSON.stringify({ url: HOOK_URL, events: ['wallet.balance_low'] });
        expect((await api('POST', '/webhooks', { body, headers: { 'content-type': contentType } })).status).toBe(201);
      }
    });

    // Fastify refused an unparsable Content-Type (415) even when there was no body to read.
    it('judges an absent body by the route, whatever the Content-Type says', async () => {
      const { id } = await create();
      for (const contentType of ['', 'x', 'text/plain', 'application/json; charset=latin1']) {
        const rotated = await api('POST', `/webhooks/${id}/rotate`, { headers: { 'content-type': contentType } });
        expect(rotated.status, `rotate, content-type ${JSON.stringify(contentType)}: ${rotated.text}`).toBe(200);
        expectEnvelope(await api('POST', '/webhooks', { headers: { 'content-type': contentType } }), 422, 'VALIDATION_FAILED');
      }
    });

    it('a compressed body is 415', async () => {
      const response = await api('POST', '/webhooks', { body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'br' } });
      expectEnvelope(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a body over the limit is 413 PAYLOAD_TOO_LARGE, with or without a content-length', async () => {
      const big = JSON.stringify({ url: HOOK_URL, events: ['wallet.balance_low'], description: 'x'.repeat(70_000) });
      expectEnvelope(await api('POST', '/webhooks', { body: big, headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
      const chunked = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(8192)));
          controller.close();
        },
      });
      const response = await fetch(`${mounted.baseUrl}/webhooks`, {
        method: 'POST',
        headers: { authorization: 'Bearer rw1', 'content-type': 'application/json' },
        body: chunked,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await service.list('org_1')).data).toHaveLength(0);
    });

    it('the body limit is configurable', async () => {
      const local = newService();
      const other = await harness.mount(local, { bodyLimit: 100 });
      try {
        const body = { url: HOOK_URL, events: ['wallet.balance_low'], description: 'x'.repeat(100) };
        expectEnvelope(await client(other.baseUrl)('POST', '/webhooks', { body }), 413, 'PAYLOAD_TOO_LARGE');
      } finally {
        await other.close();
      }
    });

    it('an unknown route under the API is 404 NOT_FOUND', async () => {
      for (const path of ['/webhooks/x/y', '/webhooks/wh_1/nope', '/webhooks/', '/event-types/x', '/webhooks//rotate', '/webhooks/a/deliveries/b/c/d']) {
        expectEnvelope(await api('GET', path), 404, 'NOT_FOUND');
      }
    });

    // Fastify's router answered these itself (400 FST_ERR_BAD_URL, no envelope); Express answered 404.
    it('a malformed percent-escape in the path is 404 NOT_FOUND with the envelope, before credentials', async () => {
      const { id } = await create();
      const paths = ['/webhooks/%zz', '/webhooks/%E0%A4%A', '/webhooks/%C0%AF', '/webhooks/%', `/webhooks/${id}/deliveries/%zz`, '/event-types/%FF'];
      for (const path of paths) {
        for (const method of ['GET', 'PATCH', 'DELETE', 'POST']) {
          for (const token of ['rw1', null] as const) {
            const response = await api(method, path, { token, body: method === 'GET' ? undefined : { description: 'x' } });
            expectEnvelope(response, 404, 'NOT_FOUND');
            expect(response.text, `${method} ${path}`).not.toContain('%');
          }
        }
      }
      const head = await api('HEAD', '/webhooks/%zz');
      expect(head.status).toBe(404);
      expect(head.headers.get('x-request-id')).toMatch(ULID);
      const echoed = await api('GET', '/webhooks/%zz', { headers: { 'x-request-id': 'req-bad-url' } });
      expect(echoed.json.error.request_id).toBe('req-bad-url');
      expect((await service.get('org_1', id)).description).toBeNull();
    });

    // Fastify decoded its wildcard (a `%2F` became a `/`), Express passed the raw path.
    it('decodes each path segment once, after splitting, on every adapter', async () => {
      const { id } = await create();
      const escaped = `wh%5F${id.slice('wh_'.length)}`;
      expect((await api('GET', `/webhooks/${escaped}`)).json.id).toBe(id);
      expect((await api('GET', `/%77ebhooks/${id}`)).json.id).toBe(id);
      expect((await api('GET', `/webhooks/${escaped}/deliveries`)).json).toEqual({ data: [], next_cursor: null });
      // Once: `%255F` is `%5F`, not `_`.
      expectEnvelope(await api('GET', `/webhooks/wh%255F${id.slice('wh_'.length)}`), 404, 'NOT_FOUND');
      // An escaped slash stays inside its segment: an id `<id>/deliveries`, not the deliveries route.
      expectEnvelope(await api('GET', `/webhooks/${id}%2Fdeliveries`), 404, 'NOT_FOUND');
      expectEnvelope(await api('POST', `/webhooks/${id}%2Frotate`), 405, 'METHOD_NOT_ALLOWED');
    });

    it('leaves paths outside /webhooks and /event-types to the host', async () => {
      for (const path of ['/other', '/webhooksx', '/', '/event-typesx/1']) {
        const response = await api('GET', path);
        expect(response.status).toBe(404);
        expect(response.json?.success).toBeUndefined();
      }
    });

    it('a known route with the wrong method is 405 METHOD_NOT_ALLOWED with Allow', async () => {
      const cases: [string, string, string][] = [
        ['PUT', '/webhooks', 'POST, GET, HEAD'],
        ['DELETE', '/webhooks', 'POST, GET, HEAD'],
        ['POST', '/webhooks/wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', 'GET, PATCH, DELETE, HEAD'],
        ['GET', '/webhooks/wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM/rotate', 'POST'],
        ['POST', '/event-types', 'GET, HEAD'],
      ];
      for (const [method, path, allow] of cases) {
        const response = await api(method, path, { token: null });
        expectEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
        expect(response.headers.get('allow')).toBe(allow);
      }
    });

    it('echoes a sane X-Request-Id and replaces an insane one', async () => {
      const echoed = await api('GET', '/webhooks/nope', { headers: { 'x-request-id': 'req-123_abc.def:9' } });
      expect(echoed.headers.get('x-request-id')).toBe('req-123_abc.def:9');
      expect(echoed.json.error.request_id).toBe('req-123_abc.def:9');
      for (const insane of ['a b', 'x'.repeat(129), '<script>', '']) {
        const replaced = await api('GET', '/webhooks/nope', { headers: { 'x-request-id': insane } });
        expect(replaced.json.error.request_id).toMatch(ULID);
        expect(replaced.headers.get('x-request-id')).toBe(replaced.json.error.request_id);
      }
      const ok = await api('GET', '/webhooks', { headers: { 'x-request-id': 'trace-1' } });
      expect(ok.headers.get('x-request-id')).toBe('trace-1');
    });

    it('a storage failure is 503 STORAGE_UNAVAILABLE, and a driver crash 500 without its message', async () => {
      const storage = memoryStorage();
      let failure: Error | null = null;
      const failing = new Proxy(storage, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (property !== 'getEndpoint' || typeof value !== 'function') return value;
          return (...args: unknown[]) => (failure ? Promise.reject(failure) : value.apply(target, args));
        },
      });
      const logger = recordingLogger();
      const other = await harness.mount(newService({ storage: failing, logger }));
      try {
        const local = client(other.baseUrl);
        const { json } = await local('POST', '/webhooks', { body: { url: HOOK_URL, events: ['wallet.balance_low'] } });
        failure = new WebhookError('STORAGE_UNAVAILABLE', 'storage unavailable');
        expectEnvelope(await local('GET', `/webhooks/${json.id}`), 503, 'STORAGE_UNAVAILABLE');
        failure = new Error(LEAKY_MESSAGE);
        const crashed = await local('GET', `/webhooks/${json.id}`);
        expectEnvelope(crashed, 500, 'INTERNAL');
        expect(crashed.text).not.toContain('hunter2');
        expect(logger.errors.map((e) => e.obj)).toEqual([expect.objectContaining({ requestId: crashed.json.error.request_id })]);
      } finally {
        await other.close();
      }
    });

    it('an unexpected exception is 500 INTERNAL with no internals, logged with the request id', async () => {
      const logger = recordingLogger();
      const local = newService({ logger });
      const other = await harness.mount(local);
      try {
        const response = await client(other.baseUrl)('GET', '/webhooks', { token: 'boom' });
        expectEnvelope(response, 500, 'INTERNAL');
        expect(response.json.error.message).toBe('internal error');
        expect(response.text).not.toContain('hunter2');
        expect(response.text).not.toContain('at ');
        expect(logger.errors).toHaveLength(1);
        expect(logger.errors[0]?.obj).toMatchObject({ requestId: response.json.error.request_id, err: { message: LEAKY_MESSAGE } });

        const bad = await client(other.baseUrl)('GET', '/webhooks', { token: 'bad-principal' });
        expectEnvelope(bad, 500, 'INTERNAL');
        expect(logger.errors).toHaveLength(2);
        // An org id the service would refuse (NUL) is the host's bug too: not a 422 blaming the caller.
        const nul = await client(other.baseUrl)('GET', '/webhooks', { token: 'nul-principal' });
        expectEnvelope(nul, 500, 'INTERNAL');
        expect(logger.errors).toHaveLength(3);
        const undescribable = await client(other.baseUrl)('GET', '/webhooks', { token: 'boom-undescribable' });
        expectEnvelope(undescribable, 500, 'INTERNAL');
        expect(logger.errors).toHaveLength(4);
        expect(logger.errors[3]?.obj).toMatchObject({ err: { message: 'a value that cannot be described' } });
      } finally {
        await other.close();
      }
    });
  });

  describe('URL policy and formats', () => {
    // Seed: "url must use HTTPS. A bad scheme returns 422 VALIDATION_FAILED with details.url."
    it('without allowHttp, an http url is 422 details.url', async () => {
      const strict = await harness.mount(newService({ delivery: {} }));
      try {
        const response = await client(strict.baseUrl)('POST', '/webhooks', { body: { url: 'http://hooks.example.com/x', events: ['wallet.balance_low'] } });
        expectEnvelope(response, 422, 'VALIDATION_FAILED');
        expect(response.json.error.details).toEqual({ url: 'must use https' });
      } finally {
        await strict.close();
      }
    });

    it("format: 'camelCase' speaks camelCase both ways", async () => {
      const local = newService();
      const camel = await harness.mount(local, { format: 'camelCase' });
      try {
        const capi = client(camel.baseUrl);
        const created = await capi('POST', '/webhooks', { body: { url: HOOK_URL, events: ['wallet.balance_low'], apiVersion: '2026-04-01' } });
        expect(created.status).toBe(201);
        expect(created.json).toMatchObject({ orgId: 'org_1', apiVersion: '2026-04-01', secretDisplayedOnce: true, active: true, deletedAt: null });
        expect(created.json).not.toHaveProperty('api_version');
        const snake = await capi('POST', '/webhooks', { body: { url: HOOK_URL, events: ['wallet.balance_low'], api_version: '2026-04-01' } });
        expectEnvelope(snake, 422, 'VALIDATION_FAILED');
        expect(snake.json.error.details).toEqual({ api_version: 'unknown field' });
        const badVersion = await capi('POST', '/webhooks', { body: { url: HOOK_URL, events: ['wallet.balance_low'], apiVersion: 'nope' } });
        expect(Object.keys(badVersion.json.error.details)).toEqual(['apiVersion']);
        const list = await capi('GET', '/webhooks?limit=1');
        expect(Object.keys(list.json).sort()).toEqual(['data', 'nextCursor']);
        expect((await capi('GET', '/event-types')).json).toHaveProperty('apiVersions');
      } finally {
        await camel.close();
      }
    });
  });
});
