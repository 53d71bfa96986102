import { describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/errors.js';
import { ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';

// Quality bar: "Bad input always gets a typed WebhookError … never a crash … never a half-written state."
describe('racing calls on one endpoint', () => {
  it('update, rotate and delete racing: each call succeeds or answers NOT_FOUND, and the endpoint ends deleted', async () => {
    const { service, storage } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    const calls = [
      service.update(ORG, endpoint.id, { description: 'one' }),
      service.rotate(ORG, endpoint.id),
      service.delete(ORG, endpoint.id),
      service.update(ORG, endpoint.id, { status: 'paused' }),
      service.rotate(ORG, endpoint.id),
      service.delete(ORG, endpoint.id),
    ];
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(WebhookError);
        expect((r.reason as WebhookError).code).toBe('NOT_FOUND');
      }
    }
    expect(results.filter((r, i) => r.status === 'fulfilled' && (i === 2 || i === 5))).toHaveLength(1);
    expect(await storage.getEndpoint(ORG, endpoint.id)).toBeNull();
  });

  it('racing rotations each return a distinct secret; exactly one is current and the 2 rotated out last still sign', async () => {
    const { service, storage } = endpointService();
    const { endpoint, secret: original } = await service.create(ORG, VALID_INPUT);
    const rotated = await Promise.all(Array.from({ length: 5 }, () => service.rotate(ORG, endpoint.id)));
    const returned = rotated.map((r) => r.secret);
    expect(new Set(returned).size).toBe(5);
    const stored = (await storage.getEndpoint(ORG, endpoint.id))!.secrets;
    expect(stored.filter((s) => s.expiresAt === null)).toHaveLength(1);
    expect(returned).toContain(stored[0]!.secret);
    // Issue 25: at most the current secret plus 2 rotated-out ones are kept; the oldest go at once.
    expect(stored).toHaveLength(3);
    for (const { secret } of stored) expect(returned).toContain(secret);
    expect(stored.map((s) => s.secret)).not.toContain(original);
  });
});
