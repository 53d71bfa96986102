import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../src/model.js';
import { ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation } from '../support/webhook-error-assertions.js';

// Issue 2: "`list` pages by cursor, stable under concurrent inserts, newest first, `limit` 1..100 (default 20)."
describe('list', () => {
  async function withEndpoints(count: number) {
    const sut = endpointService({ limits: { maxEndpointsPerOrg: 500 } });
    const created: Endpoint[] = [];
    for (let i = 0; i < count; i++) {
      created.push((await sut.service.create(ORG, VALID_INPUT)).endpoint);
      sut.clock.advance(i % 3 === 0 ? 0 : 1); // several endpoints share a millisecond
    }
    return { ...sut, newestFirst: created.reverse().map((e) => e.id) };
  }

  it('returns 20 newest first by default, with a cursor to the next page', async () => {
    const { service, newestFirst } = await withEndpoints(25);
    const page = await service.list(ORG);
    expect(page.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 20));
    expect(page.nextCursor).toBe(newestFirst[19]);
    const rest = await service.list(ORG, { cursor: page.nextCursor });
    expect(rest.data.map((e) => e.id)).toEqual(newestFirst.slice(20));
    expect(rest.nextCursor).toBeNull();
  });

  it('ends with nextCursor null when the last page is exactly full', async () => {
    const { service, newestFirst } = await withEndpoints(10);
    const first = await service.list(ORG, { limit: 5 });
    const second = await service.list(ORG, { limit: 5, cursor: first.nextCursor });
    expect(second.data.map((e) => e.id)).toEqual(newestFirst.slice(5));
    expect(second.nextCursor).toBeNull();
    expect(await service.list(ORG, { limit: 100 })).toMatchObject({ nextCursor: null });
  });

  it('answers an empty page for an org with no endpoints', async () => {
    const { service } = endpointService();
    expect(await service.list(ORG)).toEqual({ data: [], nextCursor: null });
  });

  it('accepts limit 1 and 100', async () => {
    const { service, newestFirst } = await withEndpoints(120);
    expect((await service.list(ORG, { limit: 1 })).data.map((e) => e.id)).toEqual([newestFirst[0]]);
    expect((await service.list(ORG, { limit: 100 })).data).toHaveLength(100);
  });

  it('rejects limits outside 1..100 and non-integers in details.limit', async () => {
    const { service } = endpointService();
    for (const limit of [0, 101, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', { n: 5 }]) {
      await rejectsValidation(service.list(ORG, { limit } as never), 'limit');
    }
  });

  it('rejects a cursor it did not hand out in details.cursor', async () => {
    const { service } = endpointService();
    for (const cursor of ['garbage', 'dlv_01J00000000000000000000000', 42, { id: 'x' }]) {
      await rejectsValidation(service.list(ORG, { cursor } as never), 'cursor');
    }
  });

  it('is stable while endpoints are created between pages: every endpoint exactly once, none of the new ones', async () => {
    const { service, newestFirst } = await withEndpoints(45);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await service.list(ORG, { limit: 7, cursor });
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
      await Promise.all([service.create(ORG, VALID_INPUT), service.create(ORG, VALID_INPUT)]);
    } while (cursor);
    expect(seen).toEqual(newestFirst);
  });

  it('skips deleted endpoints, also when the cursor itself was deleted', async () => {
    const { service, newestFirst } = await withEndpoints(6);
    const first = await service.list(ORG, { limit: 2 });
    await service.delete(ORG, first.nextCursor!);
    await service.delete(ORG, newestFirst[3]!);
    const rest = await service.list(ORG, { limit: 10, cursor: first.nextCursor });
    expect(rest.data.map((e) => e.id)).toEqual([newestFirst[2], newestFirst[4], newestFirst[5]]);
  });
});
