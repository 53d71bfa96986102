import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/errors.js';
import { ORG, OTHER_ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsWith } from '../support/webhook-error-assertions.js';

// Seed: "Your organization can hold up to 50 active endpoints. Exceeding the cap returns 409 LIMIT_EXCEEDED."
describe('at most 50 endpoints per organization', () => {
  it('70 concurrent creates: exactly 50 succeed, the other 20 fail LIMIT_EXCEEDED (409)', async () => {
    const { service } = endpointService();
    const results = await Promise.allSettled(Array.from({ length: 70 }, () => service.create(ORG, VALID_INPUT)));
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(created).toHaveLength(50);
    expect(refused).toHaveLength(20);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(WebhookError);
      expect(r.reason).toMatchObject({ code: 'LIMIT_EXCEEDED', status: 409, message: 'webhook endpoint limit reached (max 50)' });
    }
    expect((await service.list(ORG, { limit: 100 })).data).toHaveLength(50);
  });

  it('deleting an endpoint frees a slot, for exactly one more create', async () => {
    const { service } = endpointService();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await service.create(ORG, VALID_INPUT)).endpoint.id);
    await rejectsWith(service.create(ORG, VALID_INPUT), 'LIMIT_EXCEEDED');
    await service.delete(ORG, ids[17]!);
    const results = await Promise.allSettled([service.create(ORG, VALID_INPUT), service.create(ORG, VALID_INPUT)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await rejectsWith(service.create(ORG, VALID_INPUT), 'LIMIT_EXCEEDED');
  });

  it('is per organization', async () => {
    const { service } = endpointService({ limits: { maxEndpointsPerOrg: 2 } });
    await service.create(ORG, VALID_INPUT);
    await service.create(ORG, VALID_INPUT);
    await rejectsWith(service.create(ORG, VALID_INPUT), 'LIMIT_EXCEEDED');
    expect((await service.create(OTHER_ORG, VALID_INPUT)).endpoint.orgId).toBe(OTHER_ORG);
  });

  it('is configurable with limits.maxEndpointsPerOrg, and a paused endpoint still counts', async () => {
    const { service } = endpointService({ limits: { maxEndpointsPerOrg: 3 } });
    const first = await service.create(ORG, VALID_INPUT);
    await service.update(ORG, first.endpoint.id, { status: 'paused' });
    await service.create(ORG, VALID_INPUT);
    await service.create(ORG, VALID_INPUT);
    const error = await rejectsWith(service.create(ORG, VALID_INPUT), 'LIMIT_EXCEEDED');
    expect(error.message).toBe('webhook endpoint limit reached (max 3)');
  });
});
