import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { ERROR_STATUS, memoryStorage, type Storage, WebhookError, WebhookService } from '../../src/index.js';
import { type Mounted, expressHarness } from '../http/harness.js';
import { postgresUrl, testSchema } from '../support/postgres-test-db.js';

/**
 * Hostile values thrown at `emit`, `create`, `update` and the REST routes: huge strings, deep
 * JSON, prototype-pollution keys, lone surrogates, NaN and invalid dates, values JSON cannot
 * carry. Every call either succeeds and reads back exactly as answered, or fails with a
 * WebhookError carrying a stable code and a 4xx status; state never changes on failure, and
 * `Object.prototype` is never touched.
 */
const ORG = 'org_hostile';
const EVENT_TYPE = 'order.created';
const URL_OK = 'https://hooks.example.com/ok';

function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
  return value;
}

function circular(): unknown {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
}

const HOSTILE_STRINGS = [
    '',
    ' ',
    'x'.repeat(300_000),
    'é'.repeat(100_000),
    '\u0000',
    'a\u0000b',
    '\ud800',
    'a\udc00b',
    '\udfff\ud800',
    '😀'.repeat(201),
    '__proto__',
    'constructor',
    'prototype',
    '\u202e\u0007\u001b[31m',
    'https://hooks.example.com/\ud800',
    'https://hooks.example.com/ok\u0000',
    'https://127.0.0.1/x',
    'javascript:alert(1)',
    `https://hooks.example.com/${'a'.repeat(3000)}`,
    'order.created',
    '2026-04-01',
    'NaN',
    'Invalid Date',
];
const hostileString = fc.oneof({ arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 }, fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }));

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 6 },
  fc.constantFrom(
    NaN,
    Infinity,
    -Infinity,
    -0,
    Number.MAX_SAFE_INTEGER + 2,
    new Date(NaN),
    new Date('2026-01-01T00:00:00Z'),
    null,
    undefined,
    true,
    [],
    {},
    () => 1,
    Symbol('s'),
    10n,
  ),
  fc.constant(null).map(() => nested(100_000)),
  fc.constant(null).map(() => nested(2_000, 'deep')),
  fc.constant(null).map(circular),
  fc.constant(null).map(() => ({ toJSON: () => { throw new Error('toJSON blew up'); } })),
  fc.constant(null).map(() => ({ toJSON: () => { throw null; } })),
  fc.constant(null).map(() => ({ toJSON: () => { throw Object.create(null); } })),
  fc.constant(null).map(() => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as unknown),
  fc.constant(null).map(() => Object.create(null) as unknown),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A field is usually valid so the others get checked too; sometimes hostile. */
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: hostileValue, weight: 3 });
const extraKeys = fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'x'), hostileValue, { maxKeys: 2 });
const withKeys = (base: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(base, fc.option(extraKeys, { nil: undefined })).map(([o, extra]) => {
    if (!extra) return o;
    // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it, not a prototype change.
    for (const [k, v] of Object.entries(extra)) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    return o;
  });

const emitInput = fc.oneof(
  { arbitrary: withKeys(fc.record({ type: maybe(fc.constant(EVENT_TYPE)), data: maybe(fc.jsonValue({ maxDepth: 2 })), idempotencyKey: maybe(fc.string({ minLength: 1, maxLength: 20 })) }, { requiredKeys: ['type'] })), weight: 5 },
  { arbitrary: hostileValue, weight: 1 },
);
const filterValue = fc.oneof(fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'k')), hostileValue, { maxKeys: 3 }), hostileValue);
const createInput = fc.oneof(
  {
    arbitrary: withKeys(
      fc.record(
        {
          url: maybe(fc.constant(URL_OK)),
          events: maybe(fc.constant([EVENT_TYPE])),
          description: maybe(fc.string({ maxLength: 30 })),
          apiVersion: maybe(fc.constant('2026-04-01')),
          filter: filterValue,
        },
        { requiredKeys: ['url', 'events'] },
      ),
    ),
    weight: 5,
  },
  { arbitrary: hostileValue, weight: 1 },
);
const updateInput = fc.oneof(
  {
    arbitrary: withKeys(
      fc.record({ url: maybe(fc.constant(URL_OK)), events: maybe(fc.constant([EVENT_TYPE])), description: maybe(fc.string({ maxLength: 30 })), status: maybe(fc.constantFrom('active', 'paused')), filter: filterValue }, { requiredKeys: [] }),
    ),
    weight: 5,
  },
  { arbitrary: hostileValue, weight: 1 },
);
const orgId = fc.oneof({ arbitrary: fc.constant(ORG), weight: 6 }, { arbitrary: hostileValue, weight: 1 });

const operation = fc.oneof(
  fc.record({ op: fc.constant('emit' as const), org: orgId, input: emitInput }),
  fc.record({ op: fc.constant('create' as const), org: orgId, input: createInput }),
  fc.record({ op: fc.constant('update' as const), org: orgId, input: updateInput }),
);

type Operation = { op: 'emit' | 'create' | 'update'; org: unknown; input: unknown };

/** Every hostile string in every string field, so each run covers them whatever the random draw. */
function targetedExamples(): [Operation][] {
  const out: Operation[] = [];
  const polluting = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as unknown;
  for (const s of HOSTILE_STRINGS) {
    out.push({ op: 'create', org: ORG, input: { url: URL_OK, events: [EVENT_TYPE], description: s } });
    out.push({ op: 'create', org: ORG, input: { url: s, events: [EVENT_TYPE] } });
    out.push({ op: 'create', org: ORG, input: { url: URL_OK, events: [EVENT_TYPE], filter: { k: s } } });
    out.push({ op: 'create', org: ORG, input: { url: URL_OK, events: [EVENT_TYPE], filter: { [s]: 'v' } } });
    out.push({ op: 'create', org: s, input: { url: URL_OK, events: [EVENT_TYPE] } });
    out.push({ op: 'update', org: ORG, input: { description: s } });
    out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: { [s]: s }, idempotencyKey: s } });
    out.push({ op: 'emit', org: s, input: { type: EVENT_TYPE, data: 1 } });
  }
  // One key in two orgs: two events; the key again in the first org: the first event.
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: 1, idempotencyKey: 'prototype' } });
  out.push({ op: 'emit', org: `${ORG}_other`, input: { type: EVENT_TYPE, data: 2, idempotencyKey: 'prototype' } });
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: 3, idempotencyKey: 'prototype' } });
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: polluting } });
  out.push({ op: 'create', org: ORG, input: { url: URL_OK, events: [EVENT_TYPE], filter: polluting } });
  out.push({ op: 'update', org: ORG, input: polluting });
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: { at: new Date(NaN), n: NaN, big: Number.MAX_VALUE * 2 } } });
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: nested(100_000) } });
  out.push({ op: 'emit', org: ORG, input: { type: EVENT_TYPE, data: nested(2_000) } });
  return out.map((o) => [o]);
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
function assertPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join(',')).toBe(PROTOTYPE_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Array.prototype)).not.toContain('polluted');
}

function assertWebhookError(error: unknown, what: string): void {
  if (!(error instanceof WebhookError)) throw new Error(`${what} threw a non-WebhookError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  expect(Object.keys(ERROR_STATUS)).toContain(error.code);
  expect(error.status, `${what}: ${error.code}`).toBeGreaterThanOrEqual(400);
  expect(error.status, `${what}: ${error.code}`).toBeLessThan(500);
}

async function snapshot(storage: Storage): Promise<string> {
  return JSON.stringify([await storage.listEndpoints(ORG, { limit: 100 }), await storage.listDeliveries(ORG, { limit: 1000 })]);
}

function describeValue(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' && v.length > 60 ? `${v.slice(0, 30)}…(${v.length})` : v));
    return (text ?? String(value)).slice(0, 300);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

interface StorageCase {
  name: string;
  runs: number;
  open(): Storage | null;
  cleanUp(): void;
}

let sqliteDir: string | undefined;
const CASES: StorageCase[] = [
  { name: 'memory', runs: 300, open: () => memoryStorage(), cleanUp: () => {} },
  {
    name: 'sqlite',
    runs: 150,
    open() {
      sqliteDir = mkdtempSync(join(tmpdir(), 'hookrelay-hostile-'));
      return sqliteStorage({ filename: join(sqliteDir, 'webhooks.db') });
    },
    cleanUp() {
      if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: 'postgres',
    runs: 100,
    open() {
      const url = postgresUrl();
      return url ? postgresStorage({ connectionString: url, schema: testSchema('hostile') }) : null;
    },
    cleanUp: () => {},
  },
];

describe.each(CASES)('bad input: service over $name storage', (storageCase) => {
  let storage: Storage | null;
  let hooks: WebhookService;
  let endpointId: string;
  beforeAll(async () => {
    storage = storageCase.open();
    if (!storage) return;
    hooks = new WebhookService({ storage, eventTypes: [EVENT_TYPE] });
    await hooks.migrate();
    ({ endpoint: { id: endpointId } } = await hooks.create(ORG, { url: URL_OK, events: [EVENT_TYPE] }));
  });
  afterAll(async () => {
    await storage?.close();
    storageCase.cleanUp();
  });

  it('hostile emit/create/update: a 4xx WebhookError or an exact read-back; nothing changes on failure; prototypes untouched', async (context) => {
    if (!storage) return context.skip();
    const store = storage;
    const eventsByKey = new Map<string, string>();
    await fc.assert(
      fc.asyncProperty(operation, async ({ op, org, input }) => {
        const what = `${op}(${describeValue(org)}, ${describeValue(input)})`;
        const before = await snapshot(store);
        let result: unknown;
        try {
          if (op === 'emit') result = await hooks.emit(org as string, input as never);
          else if (op === 'create') result = await hooks.create(org as string, input as never);
          else result = await hooks.update(org as string, endpointId, input as never);
        } catch (error) {
          assertWebhookError(error, what);
          expect(await snapshot(store), `${what} failed but changed state`).toBe(before);
          assertPrototypeClean();
          return;
        }
        assertPrototypeClean();
        // Succeeded: what was answered is what is stored.
        if (op === 'emit') {
          const { event } = result as Awaited<ReturnType<WebhookService['emit']>>;
          const stored = await store.getEvent(org as string, event.id);
          expect(stored, what).toEqual(event);
          if (event.idempotencyKey !== null) {
            // Idempotency keys are scoped to an org: the same key in another org is another event.
            const scopedKey = `${org as string}\u0000${event.idempotencyKey}`;
            const first = eventsByKey.get(scopedKey);
            if (first) expect(event.id, `${what}: same key, different event`).toBe(first);
            else {
              // A different (org, key) must never return an event written under another one.
              expect([...eventsByKey.values()], `${what}: key collided with another key's event`).not.toContain(event.id);
              eventsByKey.set(scopedKey, event.id);
            }
          }
        } else if (op === 'create') {
          const { endpoint } = result as Awaited<ReturnType<WebhookService['create']>>;
          expect(await hooks.get(org as string, endpoint.id), what).toEqual(endpoint);
          await hooks.delete(org as string, endpoint.id);
        } else {
          expect(await hooks.get(ORG, endpointId), what).toEqual(result);
        }
      }),
      { numRuns: storageCase.runs, examples: targetedExamples() as never },
    );
  }, 60_000);
});

describe('bad input: REST routes (Express)', () => {
  let hooks: WebhookService;
  let mounted: Mounted;
  let endpointId: string;
  beforeAll(async () => {
    hooks = new WebhookService({ storage: memoryStorage(), eventTypes: ['wallet.balance_low'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    mounted = await expressHarness.mount(hooks);
    ({ endpoint: { id: endpointId } } = await hooks.create('org_1', { url: URL_OK, events: ['wallet.balance_low'] }));
  });
  afterAll(async () => {
    await mounted.close();
  });

  const deepJson = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  const rawBody = fc.oneof(
    fc.constantFrom(
      deepJson(100_000),
      deepJson(3_000),
      `{"url":"${URL_OK}","events":["wallet.balance_low"],"description":"${'x'.repeat(2_000_000)}"}`,
      `{"url":"${URL_OK}","events":["wallet.balance_low"],"description":"\\ud800"}`,
      `{"url":"${URL_OK}","events":["wallet.balance_low"],"filter":{"__proto__":{"polluted":true}}}`,
      '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      `{"url":"${URL_OK}","events":["wallet.balance_low"],"__proto__":{"status":"paused"}}`,
      '{"since":"NaN"}',
      '{"since":"2026-13-45T99:99:99Z"}',
      '{"since":1e400}',
      '{"status":NaN}',
      '{"a":1,"a":2}',
    ),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"description":"'), Buffer.from(bytes), Buffer.from('"}')])),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ url: URL_OK, events: ['wallet.balance_low'], description: v, filter: v })),
  );
  const route = fc.constantFrom(
    { method: 'POST', path: '/webhooks' },
    { method: 'PATCH', path: '/webhooks/:id' },
    { method: 'POST', path: '/webhooks/:id/replay' },
    { method: 'GET', path: '/webhooks/:id/deliveries?since=NaN&until=Invalid%20Date' },
    { method: 'GET', path: '/webhooks?limit=NaN&cursor=%ud800' },
    { method: 'GET', path: '/webhooks/:id/deliveries?limit=-0&status=__proto__' },
  );

  it('hostile bodies and queries: never a 5xx, always the envelope, nothing changes on failure, prototypes untouched', async () => {
    await fc.assert(
      fc.asyncProperty(route, rawBody, async ({ method, path }, body) => {
        const before = JSON.stringify([await hooks.storage.listEndpoints('org_1', { limit: 100 }), await hooks.storage.listDeliveries('org_1', { limit: 100 })]);
        const url = `${mounted.baseUrl}${path.replace(':id', endpointId)}`;
        const response = await fetch(url, {
          method,
          headers: { authorization: 'Bearer rw1', 'content-type': 'application/json' },
          body: method === 'GET' ? undefined : body,
        });
        const text = await response.text();
        const what = `${method} ${path} ${describeValue(typeof body === 'string' ? body : `bytes ${Buffer.from(body).toString('hex')}`)}`;
        expect(response.status, `${what} → ${text.slice(0, 300)}`).toBeLessThan(500);
        assertPrototypeClean();
        if (response.status >= 400) {
          const json = JSON.parse(text) as { success: boolean; error: { code: string } };
          expect(json.success).toBe(false);
          expect(Object.keys(ERROR_STATUS)).toContain(json.error.code);
          const after = JSON.stringify([await hooks.storage.listEndpoints('org_1', { limit: 100 }), await hooks.storage.listDeliveries('org_1', { limit: 100 })]);
          expect(after, `${what} failed but changed state`).toBe(before);
        } else if (method === 'POST' && path === '/webhooks') {
          const created = (JSON.parse(text) as { id?: string; data?: { id: string } });
          const id = created.data?.id ?? created.id;
          expect(id).toBeTruthy();
          await hooks.delete('org_1', id as string);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
