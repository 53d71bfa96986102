import { describe, expect, it } from 'vitest';
import { ORG, OTHER_ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsWith } from '../support/webhook-error-assertions.js';

// Seed: "Every request is automatically scoped to the organization that owns the key."
// DESIGN: "tenants never see each other's endpoints or deliveries (404, not 403)."
describe("another org's endpoint is NOT_FOUND for every method", () => {
  async function foreignEndpoint() {
    const sut = endpointService();
    const { endpoint } = await sut.service.create(ORG, VALID_INPUT);
    const before = await sut.storage.getEndpoint(ORG, endpoint.id);
    return { ...sut, endpoint, before };
  }

  it('get', async () => {
    const { service, endpoint } = await foreignEndpoint();
    const error = await rejectsWith(service.get(OTHER_ORG, endpoint.id), 'NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.message).not.toContain(ORG);
  });

  it('update changes nothing', async () => {
    const { service, storage, endpoint, before } = await foreignEndpoint();
    await rejectsWith(service.update(OTHER_ORG, endpoint.id, { url: 'https://attacker.example.com', status: 'paused' }), 'NOT_FOUND');
    expect(await storage.getEndpoint(ORG, endpoint.id)).toEqual(before);
  });

  it('delete deletes nothing', async () => {
    const { service, endpoint } = await foreignEndpoint();
    await rejectsWith(service.delete(OTHER_ORG, endpoint.id), 'NOT_FOUND');
    expect(await service.get(ORG, endpoint.id)).toEqual(endpoint);
  });

  it('rotate mints nothing', async () => {
    const { service, storage, endpoint, before } = await foreignEndpoint();
    await rejectsWith(service.rotate(OTHER_ORG, endpoint.id), 'NOT_FOUND');
    expect(await storage.getEndpoint(ORG, endpoint.id)).toEqual(before);
  });

  it('list shows only the caller’s endpoints, even given another org’s cursor', async () => {
    const { service, endpoint } = await foreignEndpoint();
    const own = await service.create(OTHER_ORG, VALID_INPUT);
    expect((await service.list(OTHER_ORG)).data.map((e) => e.id)).toEqual([own.endpoint.id]);
    const later = await service.create(ORG, VALID_INPUT);
    expect((await service.list(OTHER_ORG, { cursor: later.endpoint.id })).data.map((e) => e.id)).toEqual([own.endpoint.id]);
    expect((await service.list(ORG)).data.map((e) => e.id)).toEqual([later.endpoint.id, endpoint.id]);
  });

  it('answers the same NOT_FOUND for a foreign id, a deleted id, an unknown id and garbage', async () => {
    const { service, endpoint } = await foreignEndpoint();
    const deleted = (await service.create(OTHER_ORG, VALID_INPUT)).endpoint.id;
    await service.delete(OTHER_ORG, deleted);
    const messages = new Set<string>();
    for (const id of [endpoint.id, deleted, 'wh_01J00000000000000000000000', 'nope', '', 42 as never, null as never]) {
      for (const call of [() => service.get(OTHER_ORG, id), () => service.delete(OTHER_ORG, id), () => service.rotate(OTHER_ORG, id), () => service.update(OTHER_ORG, id, {})]) {
        messages.add((await rejectsWith(call(), 'NOT_FOUND')).message);
      }
    }
    expect([...messages]).toEqual(['webhook endpoint not found']);
  });
});
