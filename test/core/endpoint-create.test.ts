import { describe, expect, it } from 'vitest';
import { isId } from '../../src/ids.js';
import { EVENT_TYPES, ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation } from '../support/webhook-error-assertions.js';

describe('create', () => {
  it('returns the endpoint with every public field and a secret', async () => {
    const { service, clock } = endpointService();
    const { endpoint, secret } = await service.create(ORG, { ...VALID_INPUT, description: 'Ops alerts', filter: { agentId: 'agt_1' } });
    expect(isId('endpoint', endpoint.id)).toBe(true);
    expect(endpoint).toEqual({
      id: endpoint.id,
      orgId: ORG,
      url: VALID_INPUT.url,
      events: ['wallet.balance_low'],
      description: 'Ops alerts',
      apiVersion: '2026-04-01',
      filter: { agentId: 'agt_1' },
      status: 'active',
      pausedReason: null,
      createdAt: new Date(clock.now()),
      updatedAt: new Date(clock.now()),
      deletedAt: null,
    });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(await service.get(ORG, endpoint.id)).toEqual(endpoint);
  });

  // Seed: "The endpoint's signing secret is returned in the secret field exactly once (base64-encoded)."
  it("with secretPrefix '' returns the seed's plain base64 secret of 32 random bytes", async () => {
    const { service } = endpointService({ secretPrefix: '' });
    const { secret } = await service.create(ORG, VALID_INPUT);
    expect(secret).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    const { secret: another } = await service.create(ORG, VALID_INPUT);
    expect(another).not.toBe(secret);
  });

  it('rejects a body that is not an object', async () => {
    const { service } = endpointService();
    for (const body of [null, undefined, 'https://x.example.com', 42, [VALID_INPUT], new Date()]) {
      await rejectsValidation(service.create(ORG, body as never), 'body');
    }
  });

  it('rejects unknown fields by name, `__proto__` included', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create(ORG, { ...VALID_INPUT, secret: 'mine' } as never), 'secret');
    const withProto = JSON.parse(`{"url":"${VALID_INPUT.url}","events":["wallet.balance_low"],"__proto__":{"admin":true}}`);
    const error = await rejectsValidation(service.create(ORG, withProto), '__proto__');
    expect(JSON.stringify(error.details)).toBe('{"__proto__":"unknown field"}');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('reports every invalid field at once, keyed by field', async () => {
    const { service } = endpointService();
    await rejectsValidation(
      service.create(ORG, { url: 'http://x.example.com', events: [], description: 'x'.repeat(201), apiVersion: '1999-01-01' }),
      'url',
      'events',
      'description',
      'apiVersion',
    );
  });

  it('rejects an empty or oversized org id', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create('', VALID_INPUT), 'orgId');
    await rejectsValidation(service.create('o'.repeat(256), VALID_INPUT), 'orgId');
    await rejectsValidation(service.create(42 as never, VALID_INPUT), 'orgId');
  });
});

// Seed: "events must be 1 to 50 entries, each a known event type. Duplicates and unknown names
// return 422 VALIDATION_FAILED in details.events."
describe('events: 1 to 50 known, distinct entries', () => {
  const catalog = EVENT_TYPES;

  it('accepts 1 and 50 entries', async () => {
    const { service } = endpointService();
    expect((await service.create(ORG, { url: VALID_INPUT.url, events: [catalog[0]!] })).endpoint.events).toEqual([catalog[0]]);
    const fifty = catalog.slice(0, 50);
    expect((await service.create(ORG, { url: VALID_INPUT.url, events: fifty })).endpoint.events).toEqual(fifty);
  });

  it('rejects 0 and 51 entries in details.events', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events: [] }), 'events');
    await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events: catalog.slice(0, 51) }), 'events');
  });

  it('rejects duplicates in details.events', async () => {
    const { service } = endpointService();
    const error = await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events: ['wallet.balance_low', 'wallet.balance_low'] }), 'events');
    expect(error.details?.events).toMatch(/duplicate/);
  });

  it('rejects unknown names in details.events, naming them', async () => {
    const { service } = endpointService();
    const error = await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events: ['wallet.balance_low', 'wallet.exploded'] }), 'events');
    expect(error.details?.events).toContain('wallet.exploded');
  });

  it('rejects non-arrays and non-string entries', async () => {
    const { service } = endpointService();
    for (const events of ['wallet.balance_low', null, { 0: 'wallet.balance_low' }, [1], [['wallet.balance_low']]]) {
      await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events } as never), 'events');
    }
  });

  it('does not confuse catalog names with Object.prototype keys', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create(ORG, { url: VALID_INPUT.url, events: ['constructor', '__proto__', 'toString'] }), 'events');
  });
});

// Seed: "description must be 200 characters or fewer; longer values return 422 VALIDATION_FAILED."
describe('description: 200 characters or fewer', () => {
  it('accepts 200 characters, counting characters as people see them', async () => {
    const { service } = endpointService();
    expect((await service.create(ORG, { ...VALID_INPUT, description: 'd'.repeat(200) })).endpoint.description).toHaveLength(200);
    const emoji = '😀'.repeat(200);
    expect((await service.create(ORG, { ...VALID_INPUT, description: emoji })).endpoint.description).toBe(emoji);
  });

  it('rejects 201 characters in details.description', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create(ORG, { ...VALID_INPUT, description: 'd'.repeat(201) }), 'description');
    await rejectsValidation(service.create(ORG, { ...VALID_INPUT, description: '😀'.repeat(201) }), 'description');
  });

  it('treats an omitted or null description as none and rejects non-strings', async () => {
    const { service } = endpointService();
    expect((await service.create(ORG, VALID_INPUT)).endpoint.description).toBeNull();
    expect((await service.create(ORG, { ...VALID_INPUT, description: null })).endpoint.description).toBeNull();
    await rejectsValidation(service.create(ORG, { ...VALID_INPUT, description: 42 } as never), 'description');
  });
});

// Seed: "api_version must be a supported version; unknown or deprecated versions return 422 VALIDATION_FAILED."
describe('apiVersion: supported and not deprecated', () => {
  it('defaults to the current version and accepts a supported one', async () => {
    const { service } = endpointService({ apiVersions: { supported: ['2026-01-01', '2026-04-01'], current: '2026-04-01' } });
    expect((await service.create(ORG, VALID_INPUT)).endpoint.apiVersion).toBe('2026-04-01');
    expect((await service.create(ORG, { ...VALID_INPUT, apiVersion: '2026-01-01' })).endpoint.apiVersion).toBe('2026-01-01');
  });

  it('rejects an unknown version in details.apiVersion', async () => {
    const { service } = endpointService();
    await rejectsValidation(service.create(ORG, { ...VALID_INPUT, apiVersion: '2027-01-01' }), 'apiVersion');
  });

  it('rejects a deprecated version in details.apiVersion', async () => {
    const { service } = endpointService();
    const error = await rejectsValidation(service.create(ORG, { ...VALID_INPUT, apiVersion: '2025-01-01' }), 'apiVersion');
    expect(error.details?.apiVersion).toMatch(/deprecated/);
  });

  it('rejects a non-string version', async () => {
    const { service } = endpointService();
    for (const apiVersion of [null, 20260401, ['2026-04-01']]) {
      await rejectsValidation(service.create(ORG, { ...VALID_INPUT, apiVersion } as never), 'apiVersion');
    }
  });
});

// DESIGN: "`agentId`-style filters: an endpoint may carry a filter that an event's attributes must match."
describe('filter', () => {
  it('accepts string, number and boolean values and stores a copy', async () => {
    const { service } = endpointService();
    const filter = { agentId: 'agt_1', tier: 2, live: true };
    const { endpoint } = await service.create(ORG, { ...VALID_INPUT, filter });
    filter.agentId = 'changed';
    expect((await service.get(ORG, endpoint.id)).filter).toEqual({ agentId: 'agt_1', tier: 2, live: true });
  });

  it('rejects empty objects, nested values, non-finite numbers, arrays and prototype keys', async () => {
    const { service } = endpointService();
    const bad = [{}, { a: { b: 1 } }, { a: Number.NaN }, { a: Number.POSITIVE_INFINITY }, ['agt_1'], 'agt_1', { a: null }, JSON.parse('{"__proto__":"x"}'), { constructor: 'x' }];
    for (const filter of bad) await rejectsValidation(service.create(ORG, { ...VALID_INPUT, filter } as never), 'filter');
  });
});
