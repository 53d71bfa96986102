import { describe, expect, it } from 'vitest';
import { ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation, rejectsWith } from '../support/webhook-error-assertions.js';
import { eventWrite } from '../support/storage-fixtures.js';

// Seed (yourautomation): "Update a Webhook / PATCH /v1/webhooks/:id / Request
// { "events": ["execution.completed", "execution.failed"], "status": "paused" }".
describe('update', () => {
  it("applies the seed's own request: new events and status paused in one call", async () => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    const updated = await service.update(ORG, endpoint.id, { events: ['execution.completed', 'execution.failed'], status: 'paused' });
    expect(updated).toMatchObject({ events: ['execution.completed', 'execution.failed'], status: 'paused', pausedReason: 'manual' });
  });

  it('changes url, events, description and filter, keeps the rest, and stamps updatedAt', async () => {
    const { service, clock } = endpointService();
    const { endpoint } = await service.create(ORG, { ...VALID_INPUT, description: 'before', filter: { agentId: 'a' } });
    clock.advance(1_234);
    const updated = await service.update(ORG, endpoint.id, { url: 'https://new.example.com/h', events: ['execution.completed', 'execution.failed'], description: null, filter: null });
    expect(updated).toEqual({
      ...endpoint,
      url: 'https://new.example.com/h',
      events: ['execution.completed', 'execution.failed'],
      description: null,
      filter: null,
      updatedAt: new Date(clock.now()),
    });
    expect(await service.get(ORG, endpoint.id)).toEqual(updated);
  });

  it('an empty patch changes nothing but updatedAt', async () => {
    const { service, clock } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    clock.advance(5);
    expect(await service.update(ORG, endpoint.id, {})).toEqual({ ...endpoint, updatedAt: new Date(clock.now()) });
  });

  it('validates every field like create and writes nothing when any is wrong', async () => {
    const { service, storage } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    const before = await storage.getEndpoint(ORG, endpoint.id);
    await rejectsValidation(service.update(ORG, endpoint.id, { url: 'https://ok.example.com', events: ['nope.nope'] }), 'events');
    await rejectsValidation(service.update(ORG, endpoint.id, { description: 'x'.repeat(201) }), 'description');
    await rejectsValidation(service.update(ORG, endpoint.id, { status: 'deleted' } as never), 'status');
    await rejectsValidation(service.update(ORG, endpoint.id, { apiVersion: '2026-04-01' } as never), 'apiVersion');
    await rejectsValidation(service.update(ORG, endpoint.id, { events: [] }), 'events');
    await rejectsValidation(service.update(ORG, endpoint.id, null as never), 'body');
    expect(await storage.getEndpoint(ORG, endpoint.id)).toEqual(before);
  });

  // Seed (yourautomation): "Reactivate paused webhooks from the dashboard or via the API."
  it("status 'paused' pauses by hand and holds pending deliveries; 'active' resumes and makes them due now", async () => {
    const { service, storage, clock } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    const record = (await storage.getEndpoint(ORG, endpoint.id))!;
    const write = eventWrite(ORG, [record], { type: 'wallet.balance_low', createdAt: new Date(clock.now()) });
    await storage.insertEvent(write);

    clock.advance(10);
    expect(await service.update(ORG, endpoint.id, { status: 'paused' })).toMatchObject({ status: 'paused', pausedReason: 'manual' });
    expect(await storage.getDelivery(ORG, write.deliveries[0]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });

    clock.advance(10);
    expect(await service.update(ORG, endpoint.id, { status: 'active' })).toMatchObject({ status: 'active', pausedReason: null });
    expect(await storage.getDelivery(ORG, write.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: new Date(clock.now()) });
  });
});

// Seed (yourautomation): "DELETE /v1/webhooks/:id / Response (200) { "id": "wh_abc123def456", "deleted": true }".
describe('delete', () => {
  it('answers { id, deleted: true }, and every later read or write of it fails NOT_FOUND', async () => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    expect(await service.delete(ORG, endpoint.id)).toEqual({ id: endpoint.id, deleted: true });
    await rejectsWith(service.get(ORG, endpoint.id), 'NOT_FOUND');
    await rejectsWith(service.delete(ORG, endpoint.id), 'NOT_FOUND');
    await rejectsWith(service.update(ORG, endpoint.id, { status: 'active' }), 'NOT_FOUND');
    await rejectsWith(service.rotate(ORG, endpoint.id), 'NOT_FOUND');
    expect((await service.list(ORG)).data).toEqual([]);
  });

  it('is a soft delete: the record stays, with deletedAt set to the time of the delete', async () => {
    const { service, storage, clock } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    await storage.insertEvent(eventWrite(ORG, [(await storage.getEndpoint(ORG, endpoint.id))!], { createdAt: new Date(clock.now()) }));
    // A delivery in flight keeps its record reachable: claim it, delete, and let the lease run out.
    await storage.claimDueDeliveries({ now: new Date(clock.now()), limit: 1, leaseMs: 1_000, leaseToken: 'first' });
    clock.advance(500);
    await service.delete(ORG, endpoint.id);
    const [again] = await storage.claimDueDeliveries({ now: new Date(clock.now() + 500), limit: 1, leaseMs: 1_000, leaseToken: 'second' });
    expect(again?.endpoint).toMatchObject({ id: endpoint.id, deletedAt: new Date(clock.now()), updatedAt: new Date(clock.now()) });
  });

  it('cancels the endpoint’s pending deliveries', async () => {
    const { service, storage, clock } = endpointService();
    const { endpoint } = await service.create(ORG, VALID_INPUT);
    const write = eventWrite(ORG, [(await storage.getEndpoint(ORG, endpoint.id))!], { createdAt: new Date(clock.now()) });
    await storage.insertEvent(write);
    await service.delete(ORG, endpoint.id);
    expect(await storage.getDelivery(ORG, write.deliveries[0]!.id)).toMatchObject({ status: 'cancelled' });
  });
});

// Issue 2: "the previous secret stays usable for signing for a grace period (default 24 h, configurable)".
describe('rotate', () => {
  it('returns a new secret and keeps the old one, expiring at now + 24 h', async () => {
    let t = Date.UTC(2026, 3, 26, 12, 0, 0, 7);
    const { service, storage } = endpointService({ clock: { now: () => t } });
    const { endpoint, secret: first } = await service.create(ORG, VALID_INPUT);
    t += 60_000;
    const rotated = await service.rotate(ORG, endpoint.id);
    expect(rotated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(rotated.secret).not.toBe(first);
    expect(rotated.endpoint).toEqual({ ...endpoint, updatedAt: new Date(t) });
    const stored = await storage.getEndpoint(ORG, endpoint.id);
    expect(stored?.secrets).toEqual([
      { secret: rotated.secret, createdAt: new Date(t), expiresAt: null },
      { secret: first, createdAt: endpoint.createdAt, expiresAt: new Date(t + 24 * 3_600_000) },
    ]);
  });

  it('uses rotationGracePeriod, and drops secrets whose grace has run out', async () => {
    let t = Date.UTC(2026, 3, 26, 12, 0, 0, 0);
    const { service, storage } = endpointService({ clock: { now: () => t }, rotationGracePeriod: '10m' });
    const { endpoint, secret: first } = await service.create(ORG, VALID_INPUT);
    const { secret: second } = await service.rotate(ORG, endpoint.id);
    const firstExpiry = t + 600_000;
    t += 300_000;
    const { secret: third } = await service.rotate(ORG, endpoint.id);
    expect((await storage.getEndpoint(ORG, endpoint.id))?.secrets.map((s) => [s.secret, s.expiresAt?.getTime() ?? null])).toEqual([
      [third, null],
      [second, t + 600_000],
      [first, firstExpiry],
    ]);
    t = firstExpiry + 1;
    const { secret: fourth } = await service.rotate(ORG, endpoint.id);
    expect((await storage.getEndpoint(ORG, endpoint.id))?.secrets.map((s) => s.secret)).toEqual([fourth, third, second]);
  });
});
