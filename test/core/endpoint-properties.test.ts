import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/errors.js';
import { isId } from '../../src/ids.js';
import type { Endpoint } from '../../src/model.js';
import { MAX_DESCRIPTION_LENGTH, MAX_EVENTS_PER_ENDPOINT } from '../../src/validation/endpoint.js';
import { readEndpointUrl } from '../../src/validation/url.js';
import { EVENT_TYPES, endpointService } from '../support/endpoint-service.js';

// Issue 2: "property tests (fast-check) that random create/update inputs give either a valid
// endpoint or a WebhookError, never another exception" — and, per the quality bar, never a half-written state.

const ORGS = ['org_a', 'org_b'];
const RUNS = 250;

/** Values no well-behaved client sends. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 190, maxLength: 260 }),
  fc.constant('x'.repeat(300_000)),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53),
  fc.bigInt(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.constant(Symbol('junk')),
  fc.constant(() => 'fn'),
  fc.constant(Object.create(null) as object),
  fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"}}') as object),
  fc.constant(JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}') as object),
  fc.constant(new Date(Number.NaN)),
  fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withBigInt: true }),
);

/** Mostly well-formed, so both outcomes are exercised: `valid` 6 times in 7, `hostile` otherwise. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 6, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: hostile });

const url = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('https://hooks.example.com/a', 'https://8.8.8.8/x', 'https://[2606:4700::1111]/h') },
  { weight: 3, arbitrary: fc.webUrl({ validSchemes: ['https'], withQueryParameters: true, withFragments: true }) },
  { weight: 1, arbitrary: fc.constantFrom('http://hooks.example.com/a', 'https://[::1]/', 'https://u:p@x.example.com', 'https://0x7f.1/', 'https://localhost/') },
  { weight: 1, arbitrary: hostile },
);
const events = fc.oneof(
  { weight: 6, arbitrary: fc.subarray(EVENT_TYPES.slice(0, 8), { minLength: 1 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...EVENT_TYPES, 'nope.nope', '__proto__', 'constructor', ''), { maxLength: 60 }) },
  { weight: 1, arbitrary: fc.array(hostile, { maxLength: 4 }) },
  { weight: 1, arbitrary: hostile },
);
const description = mostly(fc.oneof(fc.constantFrom(undefined, null), fc.string({ maxLength: 220 }), fc.string({ unit: 'grapheme', maxLength: 210 })));
const apiVersion = mostly(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(undefined, '2026-04-01') }, { weight: 1, arbitrary: fc.constantFrom('2025-01-01', '2099-01-01', 'toString') }));
const filter = mostly(
  fc.oneof(
    fc.constantFrom(undefined, null),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.double()), { minKeys: 1, maxKeys: 4 }),
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'agentId', ''), hostile, { maxKeys: 3 }),
  ),
);
const status = mostly(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(undefined, 'active', 'paused') }, { weight: 1, arbitrary: fc.constantFrom('deleted', 'PAUSED') }));
const junkKeys = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'secret', 'id', 'orgId', 'deletedAt')), hostile, { minKeys: 1, maxKeys: 3 }) },
);

/** Builds an object whose keys are all own properties (so `__proto__` is a field, as JSON.parse makes it). */
function withOwnKeys(fields: Record<string, unknown>, junk: Record<string, unknown>, dropUndefined: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of [...Object.entries(fields), ...Object.entries(junk)]) {
    if (dropUndefined && v === undefined) continue;
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const createInput = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.record({ url, events, description, apiVersion, filter }), junkKeys, fc.boolean()).map(([f, j, d]) => withOwnKeys(f, j, d)) },
  { weight: 1, arbitrary: hostile },
);
const updateInput = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.record({ url, events, description, status, filter }, { requiredKeys: [] }), junkKeys, fc.boolean()).map(([f, j, d]) => withOwnKeys(f, j, d)) },
  { weight: 1, arbitrary: hostile },
);
const orgId = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...ORGS) }, { weight: 1, arbitrary: hostile });

function expectValidEndpoint(endpoint: Endpoint, orgId: unknown): void {
  const allowHttp = false;
  expect(isId('endpoint', endpoint.id)).toBe(true);
  expect(endpoint.orgId).toBe(orgId);
  // Stored as it will be called: reading the stored URL again gives the same URL.
  expect(readEndpointUrl(endpoint.url, { allowHttp, allowPrivateNetworks: false })).toEqual({ url: endpoint.url });
  expect(endpoint.events.length).toBeGreaterThanOrEqual(1);
  expect(endpoint.events.length).toBeLessThanOrEqual(MAX_EVENTS_PER_ENDPOINT);
  expect(new Set(endpoint.events).size).toBe(endpoint.events.length);
  for (const e of endpoint.events) expect(EVENT_TYPES).toContain(e);
  if (endpoint.description !== null) expect([...endpoint.description].length).toBeLessThanOrEqual(MAX_DESCRIPTION_LENGTH);
  expect(['2026-04-01']).toContain(endpoint.apiVersion);
  expect(['active', 'paused']).toContain(endpoint.status);
  if (endpoint.filter !== null) {
    expect(Object.getPrototypeOf(endpoint.filter)).toBe(Object.prototype);
    for (const [k, v] of Object.entries(endpoint.filter)) {
      expect(k).not.toBe('__proto__');
      expect(['string', 'number', 'boolean']).toContain(typeof v);
      if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  }
  expect(Object.keys(endpoint).sort()).toEqual(
    ['apiVersion', 'createdAt', 'deletedAt', 'description', 'events', 'filter', 'id', 'orgId', 'pausedReason', 'status', 'updatedAt', 'url'],
  );
}

function expectWebhookError(error: unknown): void {
  if (!(error instanceof WebhookError)) throw new Error(`expected a WebhookError, got ${String(error)}`, { cause: error });
  expect(error.status).toBeGreaterThanOrEqual(400);
  expect(error.status).toBeLessThan(500);
}

/** Every stored endpoint of the usual orgs and of `org` (a hostile string is a legal org id too). */
async function snapshot(sut: ReturnType<typeof endpointService>, org: unknown) {
  const orgs = typeof org === 'string' && !ORGS.includes(org) ? [...ORGS, org] : ORGS;
  const all = await Promise.all(orgs.map((o) => sut.storage.listEndpoints(o, { limit: 100_000 })));
  return all.flat();
}

describe('random create and update inputs', () => {
  it('create: a valid endpoint, or a WebhookError and nothing written', async () => {
    const sut = endpointService({ limits: { maxEndpointsPerOrg: 100_000 } });
    const outcomes = { created: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(orgId, createInput, async (org, input) => {
        const before = await snapshot(sut, org);
        let created: Awaited<ReturnType<typeof sut.service.create>>;
        try {
          created = await sut.service.create(org as string, input as never);
        } catch (error) {
          expectWebhookError(error);
          outcomes.refused++;
          expect(await snapshot(sut, org)).toEqual(before);
          return;
        }
        outcomes.created++;
        expectValidEndpoint(created.endpoint, org);
        expect(await sut.service.get(org as string, created.endpoint.id)).toEqual(created.endpoint);
        expect(await snapshot(sut, org)).toHaveLength(before.length + 1);
      }),
      { numRuns: RUNS },
    );
    // Both branches must actually be exercised for the property to mean anything.
    expect(outcomes.created).toBeGreaterThan(RUNS / 20);
    expect(outcomes.refused).toBeGreaterThan(RUNS / 4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('update: the updated endpoint, or a WebhookError and nothing written', async () => {
    const sut = endpointService({ limits: { maxEndpointsPerOrg: 100_000 } });
    const target = (await sut.service.create('org_a', { url: 'https://hooks.example.com/a', events: ['wallet.balance_low'] })).endpoint;
    const foreign = (await sut.service.create('org_b', { url: 'https://hooks.example.com/b', events: ['execution.failed'] })).endpoint;
    const id = fc.oneof({ weight: 8, arbitrary: fc.constant(target.id) }, { weight: 2, arbitrary: fc.constantFrom(foreign.id, 'wh_01J00000000000000000000000') }, { weight: 1, arbitrary: hostile });
    const outcomes = { updated: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(orgId, id, updateInput, async (org, endpointId, input) => {
        const before = await snapshot(sut, org);
        sut.clock.advance(1);
        let updated: Endpoint;
        try {
          updated = await sut.service.update(org as string, endpointId as string, input as never);
        } catch (error) {
          expectWebhookError(error);
          outcomes.refused++;
          expect(await snapshot(sut, org)).toEqual(before);
          return;
        }
        outcomes.updated++;
        expectValidEndpoint(updated, org);
        expect(await sut.service.get(org as string, updated.id)).toEqual(updated);
        const previous = before.find((e) => e.id === updated.id)!;
        const patch = input as Record<string, unknown>;
        for (const key of ['url', 'events', 'description', 'filter', 'status'] as const) {
          if (patch[key] === undefined) expect(updated[key]).toEqual(previous[key]);
        }
      }),
      { numRuns: RUNS },
    );
    expect(outcomes.updated).toBeGreaterThan(RUNS / 20);
    expect(outcomes.refused).toBeGreaterThan(RUNS / 4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('get, delete, rotate and list with random arguments: a result or a WebhookError', async () => {
    const sut = endpointService();
    const target = (await sut.service.create('org_a', { url: 'https://hooks.example.com/a', events: ['wallet.balance_low'] })).endpoint;
    const id = fc.oneof(fc.constant(target.id), hostile);
    const listOptions = fc.oneof(fc.record({ limit: fc.oneof(fc.integer({ min: -5, max: 120 }), hostile), cursor: fc.oneof(fc.constant(target.id), hostile) }, { requiredKeys: [] }), hostile);
    await fc.assert(
      fc.asyncProperty(orgId, id, listOptions, fc.constantFrom('get', 'rotate', 'list'), async (org, endpointId, options, method) => {
        try {
          if (method === 'get') expectValidEndpoint(await sut.service.get(org as string, endpointId as string), org);
          else if (method === 'rotate') expectValidEndpoint((await sut.service.rotate(org as string, endpointId as string)).endpoint, org);
          else for (const e of (await sut.service.list(org as string, options as never)).data) expectValidEndpoint(e, org);
        } catch (error) {
          expectWebhookError(error);
        }
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(orgId, fc.oneof(fc.constant('wh_01J00000000000000000000000'), hostile), async (org, endpointId) => {
        await sut.service.delete(org as string, endpointId as string).then(
          () => expect.unreachable('a random id never names an endpoint'),
          expectWebhookError,
        );
      }),
      { numRuns: 100 },
    );
    expect(await sut.service.get('org_a', target.id)).toMatchObject({ id: target.id, deletedAt: null });
  });
});
