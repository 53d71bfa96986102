import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Delivery, EndpointRecord } from '../../src/model.js';
import { MemoryStorage, memoryStorage } from '../../src/storage/memory.js';
import { at, endpointRecord, eventWrite, leaseToken } from '../support/storage-fixtures.js';
import { describeStorageConformance } from './conformance.js';

describeStorageConformance('memory', async () => {
  const storage = memoryStorage();
  await storage.migrate();
  return { storage, close: () => storage.close() };
});

const ORG = 'org_memory';

async function withEndpoints(storage: MemoryStorage, count: number): Promise<EndpointRecord[]> {
  const out: EndpointRecord[] = [];
  for (let i = 0; i < count; i++) out.push(await storage.createEndpoint(endpointRecord(ORG, at(0)), { maxPerOrg: 10_000 }));
  return out;
}

async function allDeliveries(storage: MemoryStorage): Promise<Delivery[]> {
  return storage.listDeliveries(ORG, { limit: Number.MAX_SAFE_INTEGER });
}

describe('MemoryStorage beyond the shared contract', () => {
  it('honours excludeEndpointIds: skips busy endpoints without starving the deliveries behind them', async () => {
    const storage = memoryStorage();
    const [busy, idle] = await withEndpoints(storage, 2);
    for (let i = 0; i < 50; i++) await storage.insertEvent(eventWrite(ORG, [busy!], { createdAt: at(i) }));
    const behind = eventWrite(ORG, [idle!], { createdAt: at(100) });
    await storage.insertEvent(behind);

    const claimed = await storage.claimDueDeliveries({ now: at(1_000), limit: 10, leaseMs: 60_000, leaseToken: leaseToken(), excludeEndpointIds: [busy!.id] });
    expect(claimed.map((c) => c.delivery.id)).toEqual([behind.deliveries[0]!.id]);
    // The skipped deliveries are still due, oldest first, for the next claim.
    const next = await storage.claimDueDeliveries({ now: at(1_000), limit: 3, leaseMs: 60_000, leaseToken: leaseToken() });
    expect(next.map((c) => c.delivery.createdAt)).toEqual([at(0), at(1), at(2)]);
    expect(await storage.nextDueAt()).toEqual(at(3));
  });

  it('claims exactly what a brute-force scan would, through any sequence of operations', async () => {
    type Op =
      | { kind: 'emit'; endpoint: number; due: number }
      | { kind: 'claim'; now: number; limit: number; lease: number; exclude: number[] }
      | { kind: 'complete'; pick: number; outcome: 'succeeded' | 'failed' | 'retry' | 'held'; delay: number }
      | { kind: 'release'; pick: number; now: number }
      | { kind: 'pause' | 'resume' | 'retryDelivery'; endpoint: number; pick: number; now: number };
    const endpointIndex = fc.integer({ min: 0, max: 3 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('emit' as const), endpoint: endpointIndex, due: fc.integer({ min: 0, max: 50 }) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('claim' as const),
          now: fc.integer({ min: 0, max: 80 }),
          limit: fc.integer({ min: 1, max: 6 }),
          lease: fc.integer({ min: 0, max: 30 }),
          exclude: fc.subarray([0, 1, 2, 3]),
        }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant('complete' as const),
          pick: fc.nat(),
          outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'retry' as const, 'held' as const),
          delay: fc.integer({ min: 0, max: 40 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), now: fc.integer({ min: 0, max: 80 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const, 'retryDelivery' as const), endpoint: endpointIndex, pick: fc.nat(), now: fc.integer({ min: 0, max: 80 }) }),
      },
    );

    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const storage = memoryStorage();
        const endpoints = await withEndpoints(storage, 4);
        const leases: { id: string; token: string; now: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'emit') {
            const endpoint = (await storage.getEndpoint(ORG, endpoints[o.endpoint]!.id))!;
            await storage.insertEvent(eventWrite(ORG, [endpoint], { createdAt: at(0), dueAt: at(o.due) }));
          } else if (o.kind === 'claim') {
            const excluded = new Set(o.exclude.map((i) => endpoints[i]!.id));
            const eligible = (await allDeliveries(storage)).filter(
              (d) => d.status === 'pending' && d.nextAttemptAt!.getTime() <= at(o.now).getTime() && !excluded.has(d.endpointId),
            );
            const token = leaseToken();
            const claimed = await storage.claimDueDeliveries({ now: at(o.now), limit: o.limit, leaseMs: o.lease, leaseToken: token, excludeEndpointIds: [...excluded] });
            expect(claimed).toHaveLength(Math.min(o.limit, eligible.length));
            const claimedIds = new Set(claimed.map((c) => c.delivery.id));
            const dueOf = new Map(eligible.map((d) => [d.id, d.nextAttemptAt!.getTime()]));
            for (const id of claimedIds) expect(dueOf.has(id)).toBe(true);
            // Oldest due first: nothing left behind is due earlier than something taken.
            const latestTaken = Math.max(...[...claimedIds].map((id) => dueOf.get(id)!));
            for (const d of eligible) if (!claimedIds.has(d.id)) expect(dueOf.get(d.id)!).toBeGreaterThanOrEqual(latestTaken);
            for (const c of claimed) leases.push({ id: c.delivery.id, token, now: o.now });
          } else if (o.kind === 'complete' && leases.length) {
            const lease = leases.splice(o.pick % leases.length, 1)[0]!;
            const now = at(lease.now + 1);
            const next =
              o.outcome === 'retry' ? { status: 'pending' as const, nextAttemptAt: at(lease.now + o.delay) } : o.outcome === 'held' ? { status: 'held' as const } : { status: o.outcome };
            await storage.completeAttempt({ deliveryId: lease.id, leaseToken: lease.token, attempt: null, next, now });
          } else if (o.kind === 'release' && leases.length) {
            const lease = leases.splice(o.pick % leases.length, 1)[0]!;
            await storage.releaseLeases([lease.id], lease.token, at(o.now));
          } else if (o.kind === 'pause') {
            await storage.pauseEndpoint(endpoints[o.endpoint]!.id, 'manual', at(o.now));
          } else if (o.kind === 'resume') {
            await storage.updateEndpoint(ORG, endpoints[o.endpoint]!.id, { status: 'active', pausedReason: null }, at(o.now));
          } else if (o.kind === 'retryDelivery') {
            const all = await allDeliveries(storage);
            if (all.length) await storage.retryDelivery(ORG, all[o.pick % all.length]!.id, at(o.now));
          }
          const pending = (await allDeliveries(storage)).filter((d) => d.status === 'pending').map((d) => d.nextAttemptAt!.getTime());
          expect((await storage.nextDueAt())?.getTime() ?? null).toBe(pending.length ? Math.min(...pending) : null);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('works through a 100k-delivery backlog in batches without rescanning it on every claim', async () => {
    const storage = memoryStorage();
    const endpoints = await withEndpoints(storage, 10);
    const total = 100_000;
    for (let i = 0; i < total / endpoints.length; i++) {
      await storage.insertEvent(eventWrite(ORG, endpoints, { createdAt: at(0), dueAt: at(i % 997) }));
    }
    const started = performance.now();
    let done = 0;
    let claims = 0;
    for (;;) {
      // One endpoint stays "busy" throughout, as a per-endpoint concurrency limit would make it.
      const batch = await storage.claimDueDeliveries({ now: at(1_000), limit: 500, leaseMs: 60_000, leaseToken: leaseToken(), excludeEndpointIds: [endpoints[0]!.id] });
      claims++;
      if (batch.length === 0) break;
      for (const c of batch) {
        await storage.completeAttempt({ deliveryId: c.delivery.id, leaseToken: c.leaseToken, attempt: null, next: { status: 'succeeded' }, now: at(1_001) });
      }
      done += batch.length;
    }
    const elapsedMs = performance.now() - started;
    expect(done).toBe(total - total / endpoints.length);
    expect(claims).toBe(Math.ceil(done / 500) + 1);
    expect(await storage.nextDueAt()).toEqual(at(0));
    // A full scan per claim would be ~180 claims × 100k rows; the index makes the whole drain a
    // few hundred milliseconds. The bound is loose so a busy shared machine cannot trip it.
    expect(elapsedMs).toBeLessThan(20_000);
  });
});
