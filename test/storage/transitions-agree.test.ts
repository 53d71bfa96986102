import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import {
  type EndpointChange,
  type EndpointState,
  FINISHED_STATUSES,
  onEndpointChange,
  pauseFor,
  placeAtWrite,
  type Placement,
  releaseLease,
  requeue,
  settleAttempt,
} from '../../src/delivery/transitions.js';
import type { Delivery, DeliveryStatus, EndpointRecord } from '../../src/model.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { NextDeliveryState, Storage } from '../../src/storage/storage.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';
import { at, attempt, endpointRecord, eventWrite, leaseToken } from '../support/storage-fixtures.js';

/*
 * Every storage moves deliveries exactly as the delivery state machine (src/delivery/transitions.ts)
 * says. The SQL storages restate some rules in SQL (a WHERE, a SET, a raw statement on a fast
 * path); these tables run the same cases through the module and through each storage, so a
 * restated rule cannot drift from the module.
 */

const ORG = 'org_transitions';
const LEASE_MS = 60_000;
const CLAIM_AT = at(1_000);
const DONE_AT = at(5_000);
const RETRY_AT = at(900_000);

type EndpointCondition = 'active' | 'paused' | 'deleted';
const CONDITIONS: EndpointCondition[] = ['active', 'paused', 'deleted'];
const STATE: Record<EndpointCondition, EndpointState> = {
  active: { status: 'active', deletedAt: null },
  paused: { status: 'paused', deletedAt: null },
  deleted: { status: 'active', deletedAt: CLAIM_AT },
};
const NEXTS: NextDeliveryState[] = [
  { status: 'succeeded' },
  { status: 'failed' },
  { status: 'cancelled' },
  { status: 'held' },
  { status: 'pending', nextAttemptAt: RETRY_AT },
];

type Open = () => Promise<{ storage: Storage; close: () => Promise<void> }>;

function placementOf(d: Delivery | null): Placement {
  if (!d) throw new Error('delivery missing');
  return { status: d.status, nextAttemptAt: d.nextAttemptAt, completedAt: d.completedAt };
}

function describeAgreement(name: string, open: Open): void {
  describe(`${name} moves deliveries as the delivery state machine says`, () => {
    let storage: Storage;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ storage, close } = await open());
    });
    afterEach(async () => {
      await close();
    });

    const newEndpoint = (): Promise<EndpointRecord> => storage.createEndpoint(endpointRecord(ORG, at(0)), { maxPerOrg: 10_000 });

    /** A delivery of a fresh endpoint, written with `status` (pending ones due at `at(0)`). */
    async function deliveryOf(endpoint: EndpointRecord, status: DeliveryStatus = 'pending'): Promise<Delivery> {
      const write = eventWrite(ORG, [endpoint], { createdAt: at(0) });
      const written = { ...write.deliveries[0]!, status, nextAttemptAt: status === 'pending' ? at(0) : null, completedAt: FINISHED_STATUSES.includes(status as never) ? at(0) : null };
      const { deliveries } = await storage.insertEvent({ event: write.event, deliveries: [written] });
      return deliveries[0]!;
    }

    /** Claims everything due at `now` and returns the lease of `delivery` (the others stay leased, out of the way). */
    async function claim(delivery: Delivery, now: Date): Promise<string> {
      const token = leaseToken();
      const claimed = await storage.claimDueDeliveries({ now, limit: 10_000, leaseMs: LEASE_MS, leaseToken: token });
      expect(claimed.map((c) => c.delivery.id)).toContain(delivery.id);
      return token;
    }

    async function makeCondition(endpoint: EndpointRecord, condition: EndpointCondition, now: Date): Promise<void> {
      if (condition === 'paused') expect(await storage.pauseEndpoint(endpoint.id, 'manual', now)).not.toBeNull();
      if (condition === 'deleted') expect(await storage.deleteEndpoint(ORG, endpoint.id, now)).toBe(true);
    }

    it('settling an attempt: every outcome, with and without an attempt, on an active, paused or deleted endpoint', async () => {
      for (const condition of CONDITIONS) {
        for (const next of NEXTS) {
          for (const withAttempt of [false, true]) {
            const endpoint = await newEndpoint();
            const d = await deliveryOf(endpoint);
            const token = await claim(d, CLAIM_AT);
            // Paused or deleted while the attempt was in flight: the live lease keeps it pending.
            await makeCondition(endpoint, condition, CLAIM_AT);
            const made = withAttempt ? attempt(d, { attemptNumber: 1, startedAt: CLAIM_AT, statusCode: 500 }) : null;
            expect(await storage.completeAttempt({ deliveryId: d.id, leaseToken: token, attempt: made, next, now: DONE_AT })).toBe(true);
            const stored = placementOf(await storage.getDelivery(ORG, d.id));
            expect({ condition, next, withAttempt, stored }).toEqual({ condition, next, withAttempt, stored: settleAttempt(next, STATE[condition], DONE_AT) });
          }
        }
      }
    });

    it('giving a lease back: on an active, paused or deleted endpoint', async () => {
      for (const condition of CONDITIONS) {
        const endpoint = await newEndpoint();
        const d = await deliveryOf(endpoint);
        const token = await claim(d, CLAIM_AT);
        await makeCondition(endpoint, condition, CLAIM_AT);
        expect(await storage.releaseLeases([d.id], token, DONE_AT)).toBe(1);
        const stored = placementOf(await storage.getDelivery(ORG, d.id));
        expect({ condition, stored }).toEqual({ condition, stored: releaseLease(STATE[condition], DONE_AT) });
      }
    });

    type Setup = { name: string; status: DeliveryStatus; lease: 'none' | 'live' | 'run out'; pausedFirst: boolean };
    const setups: Setup[] = [
      { name: 'idle pending', status: 'pending', lease: 'none', pausedFirst: false },
      { name: 'pending under a live lease', status: 'pending', lease: 'live', pausedFirst: false },
      { name: 'pending whose lease ran out', status: 'pending', lease: 'run out', pausedFirst: false },
      { name: 'held', status: 'held', lease: 'none', pausedFirst: true },
      { name: 'leased, then its endpoint paused', status: 'pending', lease: 'live', pausedFirst: true },
      ...FINISHED_STATUSES.map((status) => ({ name: status, status, lease: 'none' as const, pausedFirst: false })),
      ...FINISHED_STATUSES.map((status) => ({ name: `${status} on a paused endpoint`, status, lease: 'none' as const, pausedFirst: true })),
    ];

    const changes: { change: EndpointChange; how: string; apply: (endpoint: EndpointRecord, now: Date) => Promise<unknown> }[] = [
      { change: 'paused', how: 'pauseEndpoint', apply: (e, now) => storage.pauseEndpoint(e.id, 'failing', now) },
      { change: 'paused', how: 'updateEndpoint', apply: (e, now) => storage.updateEndpoint(ORG, e.id, { status: 'paused', pausedReason: 'manual' }, now) },
      { change: 'resumed', how: 'updateEndpoint', apply: (e, now) => storage.updateEndpoint(ORG, e.id, { status: 'active', pausedReason: null }, now) },
      { change: 'deleted', how: 'deleteEndpoint', apply: (e, now) => storage.deleteEndpoint(ORG, e.id, now) },
    ];

    it('a change of the endpoint: pausing, resuming and deleting, over every state a delivery can be in then', async () => {
      for (const { change, how, apply } of changes) {
        for (const setup of setups) {
          // Pausing needs an active endpoint, resuming a paused one.
          if ((change === 'paused' && setup.pausedFirst) || (change === 'resumed' && !setup.pausedFirst)) continue;
          const endpoint = await newEndpoint();
          const d = await deliveryOf(endpoint, setup.status === 'held' ? 'pending' : setup.status);
          const token = setup.lease === 'none' ? null : await claim(d, CLAIM_AT);
          if (setup.pausedFirst) expect(await storage.pauseEndpoint(endpoint.id, 'manual', CLAIM_AT)).not.toBeNull();
          const changeAt = setup.lease === 'run out' ? new Date(CLAIM_AT.getTime() + LEASE_MS) : DONE_AT;
          const before = (await storage.getDelivery(ORG, d.id))!;
          expect(before.status).toBe(setup.status);
          await apply(endpoint, changeAt);
          const stored = placementOf(await storage.getDelivery(ORG, d.id));
          const expected = onEndpointChange(change, { status: before.status, nextAttemptAt: before.nextAttemptAt, leaseToken: token }, changeAt) ?? placementOf(before);
          expect({ how, setup: setup.name, stored }).toEqual({ how, setup: setup.name, stored: expected });
        }
      }
    });

    it('a manual retry and a replay: every status, on an active or a paused endpoint', async () => {
      const statuses: DeliveryStatus[] = ['pending', 'held', ...FINISHED_STATUSES];
      for (const paused of [false, true]) {
        for (const status of statuses) {
          for (const via of ['retry', 'replay'] as const) {
            const endpoint = await newEndpoint();
            const d = await deliveryOf(endpoint, status === 'held' ? 'pending' : status);
            if (paused || status === 'held') await storage.pauseEndpoint(endpoint.id, 'manual', CLAIM_AT);
            const before = (await storage.getDelivery(ORG, d.id))!;
            expect(before.status).toBe(paused && status === 'pending' ? 'held' : status);
            if (via === 'retry') await storage.retryDelivery(ORG, d.id, DONE_AT);
            else await storage.replayDeliveries(ORG, endpoint.id, { since: at(0), ...(FINISHED_STATUSES.includes(before.status as never) ? { status: before.status } : {}) }, DONE_AT);
            const stored = (await storage.getDelivery(ORG, d.id))!;
            const endpointNow = paused || status === 'held' ? STATE.paused : STATE.active;
            const moved = requeue(before, endpointNow, DONE_AT);
            const expected = moved ?? { ...placementOf(before), requeuedAtAttempt: before.requeuedAtAttempt };
            expect({ via, paused, status, stored: { ...placementOf(stored), requeuedAtAttempt: stored.requeuedAtAttempt } }).toEqual({ via, paused, status, stored: expected });
          }
        }
      }
    });

    it('pausing for a reason: only an active, live endpoint pauses', async () => {
      for (const condition of CONDITIONS) {
        const endpoint = await newEndpoint();
        await makeCondition(endpoint, condition, CLAIM_AT);
        const before = { ...endpoint, status: STATE[condition]!.status, deletedAt: condition === 'deleted' ? CLAIM_AT : null };
        const paused = await storage.pauseEndpoint(endpoint.id, 'gone', DONE_AT);
        const expected = pauseFor(before, 'gone', DONE_AT);
        expect({ condition, paused: paused && { status: paused.status, pausedReason: paused.pausedReason, updatedAt: paused.updatedAt } }).toEqual({
          condition,
          paused: expected && { status: expected.status, pausedReason: expected.pausedReason, updatedAt: expected.updatedAt },
        });
      }
    });

    it('a delivery written held from a stale read: placed again from the endpoint at write time', async () => {
      for (const condition of CONDITIONS) {
        const endpoint = await newEndpoint();
        await makeCondition(endpoint, condition, CLAIM_AT);
        const write = eventWrite(ORG, [{ ...endpoint, status: 'paused' }], { createdAt: DONE_AT });
        expect(write.deliveries[0]!.status).toBe('held');
        const { deliveries } = await storage.insertEvent(write);
        const expected = placeAtWrite(write.deliveries[0]!, STATE[condition]);
        expect({ condition, returned: placementOf(deliveries[0]!) }).toEqual({ condition, returned: placementOf(expected) });
        expect({ condition, stored: placementOf(await storage.getDelivery(ORG, write.deliveries[0]!.id)) }).toEqual({ condition, stored: placementOf(expected) });
      }
    });
  });
}

describeAgreement('memory', async () => {
  const storage = memoryStorage();
  return { storage, close: () => storage.close() };
});

describeAgreement('sqlite', () => openSqliteFileStorage('hookrelay-transitions-'));

describePostgres('postgres', (url) => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 10 });
  });
  afterAll(async () => {
    await pool.end();
  });
  describeAgreement('postgres', async () => {
    const schema = testSchema('tr');
    const storage = postgresStorage({ pool, schema });
    await storage.migrate();
    return {
      storage,
      close: async () => {
        await storage.close();
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
    };
  });
});
