import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookError } from '../../src/errors.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { EndpointRecord } from '../../src/model.js';
import type { ClaimedDelivery, NextDeliveryState, NewEventWrite, Storage } from '../../src/storage/storage.js';
import { at, attempt, delivery, endpointRecord, eventWrite, leaseToken, secretValue } from '../support/storage-fixtures.js';
import { OperationScript, storageOperations } from '../support/storage-operations.js';

/** A storage under test and how to dispose of it. */
export interface StorageHarness {
  storage: Storage;
  close(): Promise<void>;
}

const ORG_A = 'org_alpha';
const ORG_B = 'org_bravo';
const CAP = { maxPerOrg: 50 };
const LEASE_MS = 60_000;

/**
 * The contract every Storage must meet, as the JSDoc of `src/storage/storage.ts` states it.
 * `open` must return a fresh, empty, migrated storage; it is called before every test.
 * The suite drives the storage directly, with explicit instants and no timing assumptions,
 * so it runs unchanged over memory, SQLite and Postgres.
 */
export function describeStorageConformance(name: string, open: () => Promise<StorageHarness>): void {
  describe(`Storage conformance: ${name}`, () => {
    let harness: StorageHarness;
    const storage = (): Storage => harness.storage;

    beforeEach(async () => {
      harness = await open();
    });
    afterEach(async () => {
      await harness.close();
    });

    async function addEndpoint(orgId = ORG_A, overrides: Partial<EndpointRecord> = {}, createdAt = at(0)): Promise<EndpointRecord> {
      return storage().createEndpoint(endpointRecord(orgId, createdAt, overrides), CAP);
    }

    async function addEvent(orgId: string, endpoints: EndpointRecord[], createdAt: Date, dueAt?: Date): Promise<NewEventWrite> {
      const write = eventWrite(orgId, endpoints, { createdAt, ...(dueAt ? { dueAt } : {}) });
      const result = await storage().insertEvent(write);
      expect(result.created).toBe(true);
      return write;
    }

    async function readDelivery(orgId: string, id: string) {
      const d = await storage().getDelivery(orgId, id);
      if (!d) throw new Error(`delivery ${id} not found`);
      return d;
    }

    async function claim(now: Date, limit = 1000, token = leaseToken(), leaseMs = LEASE_MS): Promise<ClaimedDelivery[]> {
      return storage().claimDueDeliveries({ now, limit, leaseMs, leaseToken: token });
    }

    /** Claims everything due at `now` and completes each claim with one failed (HTTP 500) attempt and `next`. */
    async function settleDue(now: Date, next: NextDeliveryState): Promise<ClaimedDelivery[]> {
      const claimed = await claim(now);
      for (const c of claimed) {
        const ok = await storage().completeAttempt({
          deliveryId: c.delivery.id,
          leaseToken: c.leaseToken,
          attempt: attempt(c.delivery, { attemptNumber: c.delivery.attemptCount + 1, startedAt: now, statusCode: next.status === 'succeeded' ? 200 : 500 }),
          next,
          now,
        });
        expect(ok).toBe(true);
      }
      return claimed;
    }

    const ids = (list: { id: string }[]): string[] => list.map((x) => x.id);
    const claimedIds = (list: ClaimedDelivery[]): string[] => list.map((c) => c.delivery.id).sort();
    const sorted = (list: string[]): string[] => [...list].sort();

    describe('migrate', () => {
      it('is idempotent and keeps existing rows', async () => {
        const endpoint = await addEndpoint();
        await storage().migrate();
        await storage().migrate();
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(endpoint);
      });

      it('can run concurrently with itself', async () => {
        await Promise.all([storage().migrate(), storage().migrate(), storage().migrate()]);
        const endpoint = await addEndpoint();
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(endpoint);
      });
    });

    describe('endpoints', () => {
      it('createEndpoint returns the record and getEndpoint reads it back field for field', async () => {
        const record = endpointRecord(ORG_A, at(7), {
          description: 'Ops alerts ✓ — 日本語',
          filter: { agentId: 'agt_01', priority: 3, live: true },
          events: ['wallet.balance_low', 'execution.completed'],
          url: 'https://hooks.example.com/y3labs/ops?tenant=a&x=%20',
        });
        expect(await storage().createEndpoint(record, CAP)).toEqual(record);
        expect(await storage().getEndpoint(ORG_A, record.id)).toEqual(record);
      });

      it('getEndpoint answers null for another org, an unknown id and a deleted endpoint', async () => {
        const endpoint = await addEndpoint();
        expect(await storage().getEndpoint(ORG_B, endpoint.id)).toBeNull();
        expect(await storage().getEndpoint(ORG_A, endpointRecord(ORG_A, at(0)).id)).toBeNull();
        await storage().deleteEndpoint(ORG_A, endpoint.id, at(10));
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toBeNull();
      });

      it('listEndpoints returns the org’s non-deleted endpoints newest first, `limit` at a time, strictly before `beforeId`', async () => {
        const created: EndpointRecord[] = [];
        for (let i = 0; i < 5; i++) created.push(await addEndpoint(ORG_A, {}, at(i)));
        await addEndpoint(ORG_B);
        await storage().deleteEndpoint(ORG_A, created[1]!.id, at(100));
        const live = [created[4]!, created[3]!, created[2]!, created[0]!];

        expect(await storage().listEndpoints(ORG_A, { limit: 10 })).toEqual(live);
        const first = await storage().listEndpoints(ORG_A, { limit: 2 });
        expect(ids(first)).toEqual(ids(live.slice(0, 2)));
        const second = await storage().listEndpoints(ORG_A, { limit: 2, beforeId: first[1]!.id });
        expect(ids(second)).toEqual(ids(live.slice(2, 4)));
        expect(await storage().listEndpoints(ORG_A, { limit: 2, beforeId: second[1]!.id })).toEqual([]);
      });

      it('listEndpoints pages stay stable while endpoints are created, and a deleted beforeId still bounds the page', async () => {
        const created: EndpointRecord[] = [];
        for (let i = 0; i < 6; i++) created.push(await addEndpoint(ORG_A, {}, at(i)));
        const first = await storage().listEndpoints(ORG_A, { limit: 2 });
        await addEndpoint(ORG_A, {}, at(10));
        await storage().deleteEndpoint(ORG_A, first[1]!.id, at(11));
        const second = await storage().listEndpoints(ORG_A, { limit: 10, beforeId: first[1]!.id });
        expect(ids(second)).toEqual(ids([created[3]!, created[2]!, created[1]!, created[0]!]));
      });

      it('listSubscribedEndpoints returns subscribed, non-deleted endpoints of the org, paused ones included', async () => {
        const subscribed = await addEndpoint(ORG_A, { events: ['order.created'] });
        const paused = await addEndpoint(ORG_A, { events: ['order.paid', 'order.created'], status: 'paused', pausedReason: 'manual' });
        await addEndpoint(ORG_A, { events: ['order.paid'] });
        const deleted = await addEndpoint(ORG_A, { events: ['order.created'] });
        await storage().deleteEndpoint(ORG_A, deleted.id, at(5));
        await addEndpoint(ORG_B, { events: ['order.created'] });

        const found = await storage().listSubscribedEndpoints(ORG_A, 'order.created');
        expect(sorted(ids(found))).toEqual(sorted([subscribed.id, paused.id]));
        expect(found.find((e) => e.id === paused.id)).toEqual(paused);
        expect(await storage().listSubscribedEndpoints(ORG_A, 'order.refunded')).toEqual([]);
      });

      it('updateEndpoint applies only the keys given and sets updatedAt to now', async () => {
        const endpoint = await addEndpoint(ORG_A, { description: 'before', filter: { agentId: 'a' } });
        const updated = await storage().updateEndpoint(ORG_A, endpoint.id, { url: 'https://new.example.com/h', events: ['order.paid'] }, at(501));
        const expected = { ...endpoint, url: 'https://new.example.com/h', events: ['order.paid'], updatedAt: at(501) };
        expect(updated).toEqual(expected);
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(expected);

        const again = await storage().updateEndpoint(ORG_A, endpoint.id, { description: 'after', filter: { agentId: 'b', n: 2 } }, at(602));
        expect(again).toEqual({ ...expected, description: 'after', filter: { agentId: 'b', n: 2 }, updatedAt: at(602) });
      });

      it('updateEndpoint clears description and filter when given null', async () => {
        const endpoint = await addEndpoint(ORG_A, { description: 'text', filter: { agentId: 'a' } });
        const updated = await storage().updateEndpoint(ORG_A, endpoint.id, { description: null, filter: null }, at(1));
        expect(updated).toMatchObject({ description: null, filter: null });
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toMatchObject({ description: null, filter: null });
      });

      it('updateEndpoint answers null for another org or a deleted endpoint and changes nothing', async () => {
        const endpoint = await addEndpoint();
        expect(await storage().updateEndpoint(ORG_B, endpoint.id, { url: 'https://evil.example.com' }, at(1))).toBeNull();
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(endpoint);
        await storage().deleteEndpoint(ORG_A, endpoint.id, at(2));
        expect(await storage().updateEndpoint(ORG_A, endpoint.id, { url: 'https://late.example.com' }, at(3))).toBeNull();
      });
    });

    describe('endpoint cap', () => {
      it('refuses the create beyond maxPerOrg with LIMIT_EXCEEDED and writes nothing', async () => {
        for (let i = 0; i < 3; i++) await storage().createEndpoint(endpointRecord(ORG_A, at(i)), { maxPerOrg: 3 });
        const extra = endpointRecord(ORG_A, at(9));
        const error = await storage()
          .createEndpoint(extra, { maxPerOrg: 3 })
          .then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(WebhookError);
        expect(error).toMatchObject({ code: 'LIMIT_EXCEEDED' });
        expect(await storage().getEndpoint(ORG_A, extra.id)).toBeNull();
        expect(await storage().listEndpoints(ORG_A, { limit: 100 })).toHaveLength(3);
      });

      it('counts per org, and a deleted endpoint frees its slot', async () => {
        const first = await storage().createEndpoint(endpointRecord(ORG_A, at(0)), { maxPerOrg: 2 });
        await storage().createEndpoint(endpointRecord(ORG_A, at(1)), { maxPerOrg: 2 });
        await expect(storage().createEndpoint(endpointRecord(ORG_A, at(2)), { maxPerOrg: 2 })).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
        await storage().createEndpoint(endpointRecord(ORG_B, at(3)), { maxPerOrg: 2 });
        await storage().deleteEndpoint(ORG_A, first.id, at(4));
        const replacement = endpointRecord(ORG_A, at(5));
        expect(await storage().createEndpoint(replacement, { maxPerOrg: 2 })).toEqual(replacement);
      });

      it('holds under concurrent creates: exactly maxPerOrg of 12 racing creates succeed', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 12 }, (_, i) => storage().createEndpoint(endpointRecord(ORG_A, at(i)), { maxPerOrg: 5 })),
        );
        const fulfilled = results.filter((r) => r.status === 'fulfilled');
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(fulfilled).toHaveLength(5);
        for (const r of rejected) expect(r.reason).toMatchObject({ code: 'LIMIT_EXCEEDED' });
        expect(await storage().listEndpoints(ORG_A, { limit: 100 })).toHaveLength(5);
      });
    });

    describe('pause and resume', () => {
      it('updateEndpoint active → paused holds pending deliveries; paused → active makes held ones pending and due at now', async () => {
        const endpoint = await addEndpoint();
        const other = await addEndpoint();
        const settled = await addEvent(ORG_A, [endpoint], at(0));
        await settleDue(at(0), { status: 'succeeded' });
        const waiting = await addEvent(ORG_A, [endpoint, other], at(10), at(5_000));

        const paused = await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'paused', pausedReason: 'manual' }, at(20));
        expect(paused).toMatchObject({ status: 'paused', pausedReason: 'manual', updatedAt: at(20) });
        expect(await readDelivery(ORG_A, waiting.deliveries[0]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await readDelivery(ORG_A, waiting.deliveries[1]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(5_000) });
        expect(await readDelivery(ORG_A, settled.deliveries[0]!.id)).toMatchObject({ status: 'succeeded' });
        expect(claimedIds(await claim(at(10_000), 1000))).toEqual([waiting.deliveries[1]!.id]);

        const resumed = await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'active', pausedReason: null }, at(30_000));
        expect(resumed).toMatchObject({ status: 'active', pausedReason: null, updatedAt: at(30_000) });
        expect(await readDelivery(ORG_A, waiting.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(30_000) });
        expect(await readDelivery(ORG_A, settled.deliveries[0]!.id)).toMatchObject({ status: 'succeeded' });
        expect(claimedIds(await claim(at(30_000)))).toEqual([waiting.deliveries[0]!.id]);
      });

      it('an emit that read its endpoint paused but writes after the resume stores the delivery pending, so nothing strands in held', async () => {
        const endpoint = await addEndpoint();
        const pausedView = { ...endpoint, status: 'paused' as const, pausedReason: 'manual' as const };
        await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'paused', pausedReason: 'manual' }, at(10));
        // emit read the endpoint here (paused); the host resumes it before emit writes.
        const write = eventWrite(ORG_A, [pausedView], { createdAt: at(20) });
        expect(write.deliveries[0]).toMatchObject({ status: 'held' });
        await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'active', pausedReason: null }, at(30));
        const result = await storage().insertEvent(write);
        expect(result.deliveries[0]).toMatchObject({ status: 'pending', nextAttemptAt: at(20) });
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(20), completedAt: null });
        expect(claimedIds(await claim(at(20)))).toEqual([write.deliveries[0]!.id]);
      });

      it('an emit that read its endpoint paused but writes after the delete stores the delivery cancelled; one still paused stays held', async () => {
        const gone = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        const still = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'failing' });
        const write = eventWrite(ORG_A, [gone, still], { createdAt: at(20) });
        await storage().deleteEndpoint(ORG_A, gone.id, at(30));
        const result = await storage().insertEvent(write);
        expect(result.deliveries.map((d) => d.status)).toEqual(['cancelled', 'held']);
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'cancelled', nextAttemptAt: null, completedAt: at(20) });
        expect(await readDelivery(ORG_A, write.deliveries[1]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await claim(at(100_000))).toEqual([]);
      });

      it('setting the status an endpoint already has moves no delivery', async () => {
        const active = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'failing' });
        const write = await addEvent(ORG_A, [active, paused], at(0), at(7_000));
        await storage().updateEndpoint(ORG_A, active.id, { status: 'active', pausedReason: null }, at(10));
        await storage().updateEndpoint(ORG_A, paused.id, { status: 'paused', pausedReason: 'manual' }, at(11));
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(7_000) });
        expect(await readDelivery(ORG_A, write.deliveries[1]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
      });

      it('pauseEndpoint pauses an active endpoint of any org with the reason and holds its pending deliveries', async () => {
        const endpoint = await addEndpoint(ORG_B);
        const write = await addEvent(ORG_B, [endpoint], at(0));
        const paused = await storage().pauseEndpoint(endpoint.id, 'failing', at(40));
        expect(paused).toEqual({ ...endpoint, status: 'paused', pausedReason: 'failing', updatedAt: at(40) });
        expect(await storage().getEndpoint(ORG_B, endpoint.id)).toEqual(paused);
        expect(await readDelivery(ORG_B, write.deliveries[0]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await claim(at(100_000))).toEqual([]);
      });

      it('pauseEndpoint answers null for a paused, deleted or unknown endpoint and changes nothing', async () => {
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        expect(await storage().pauseEndpoint(paused.id, 'gone', at(1))).toBeNull();
        expect(await storage().getEndpoint(ORG_A, paused.id)).toEqual(paused);
        const deleted = await addEndpoint();
        await storage().deleteEndpoint(ORG_A, deleted.id, at(2));
        expect(await storage().pauseEndpoint(deleted.id, 'failing', at(3))).toBeNull();
        expect(await storage().pauseEndpoint(endpointRecord(ORG_A, at(0)).id, 'failing', at(3))).toBeNull();
      });

      it('exactly one of several racing pauseEndpoint calls gets the endpoint back', async () => {
        const endpoint = await addEndpoint();
        const results = await Promise.all(Array.from({ length: 6 }, (_, i) => storage().pauseEndpoint(endpoint.id, i % 2 ? 'gone' : 'failing', at(50 + i))));
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(winners[0]);
      });
    });

    describe('deleteEndpoint', () => {
      it('soft-deletes once: true, then reads miss it and a second delete answers false', async () => {
        const endpoint = await addEndpoint();
        expect(await storage().deleteEndpoint(ORG_A, endpoint.id, at(10))).toBe(true);
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toBeNull();
        expect(await storage().listEndpoints(ORG_A, { limit: 10 })).toEqual([]);
        expect(await storage().deleteEndpoint(ORG_A, endpoint.id, at(11))).toBe(false);
      });

      it('exactly one of several racing deletes answers true', async () => {
        const endpoint = await addEndpoint();
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => storage().deleteEndpoint(ORG_A, endpoint.id, at(10 + i))));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toBeNull();
      });

      it('answers false for another org’s endpoint and leaves it alone', async () => {
        const endpoint = await addEndpoint(ORG_A);
        expect(await storage().deleteEndpoint(ORG_B, endpoint.id, at(10))).toBe(false);
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(endpoint);
      });

      it('cancels pending and held deliveries and leaves finished ones as they were', async () => {
        const active = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        const done = await addEvent(ORG_A, [active], at(0));
        await settleDue(at(0), { status: 'succeeded' });
        const open = await addEvent(ORG_A, [active, paused], at(10), at(1_000));
        const [pending, held] = open.deliveries;
        expect(await readDelivery(ORG_A, held!.id)).toMatchObject({ status: 'held' });

        await storage().deleteEndpoint(ORG_A, active.id, at(20));
        await storage().deleteEndpoint(ORG_A, paused.id, at(21));
        expect(await readDelivery(ORG_A, pending!.id)).toMatchObject({ status: 'cancelled', nextAttemptAt: null, completedAt: at(20) });
        expect(await readDelivery(ORG_A, held!.id)).toMatchObject({ status: 'cancelled', nextAttemptAt: null, completedAt: at(21) });
        expect(await readDelivery(ORG_A, done.deliveries[0]!.id)).toMatchObject({ status: 'succeeded', completedAt: at(0) });
        expect(await claim(at(1_000_000))).toEqual([]);
        expect(await storage().nextDueAt()).toBeNull();
      });
    });

    describe('rotateSecret', () => {
      it('puts the new secret first, gives the previous current one its expiry, and drops secrets expired at now', async () => {
        const grace = 86_400_000;
        const endpoint = await addEndpoint();
        const first = endpoint.secrets[0]!;
        const second = { secret: secretValue(), createdAt: at(1_000), expiresAt: null };
        const r1 = await storage().rotateSecret(ORG_A, endpoint.id, second, at(1_000 + grace), at(1_000));
        expect(r1?.secrets).toEqual([second, { ...first, expiresAt: at(1_000 + grace) }]);
        expect(r1?.updatedAt).toEqual(at(1_000));

        const third = { secret: secretValue(), createdAt: at(2_000), expiresAt: null };
        const r2 = await storage().rotateSecret(ORG_A, endpoint.id, third, at(2_000 + grace), at(2_000));
        expect(r2?.secrets).toEqual([third, { ...second, expiresAt: at(2_000 + grace) }, { ...first, expiresAt: at(1_000 + grace) }]);

        // At 1_500 + grace the first secret has expired and the second has not.
        const fourth = { secret: secretValue(), createdAt: at(1_500 + grace), expiresAt: null };
        const r3 = await storage().rotateSecret(ORG_A, endpoint.id, fourth, at(1_500 + 2 * grace), at(1_500 + grace));
        expect(r3?.secrets).toEqual([fourth, { ...third, expiresAt: at(1_500 + 2 * grace) }, { ...second, expiresAt: at(2_000 + grace) }]);
        expect((await storage().getEndpoint(ORG_A, endpoint.id))?.secrets).toEqual(r3?.secrets);
      });

      // Issue 25: "At most a small number of secrets sign at once (the current one plus 2 rotated-out
      // ones). A rotation beyond that expires the oldest at once."
      it('keeps the current secret and the 2 newest rotated-out ones: a rotation beyond that drops the oldest at once', async () => {
        const grace = 86_400_000;
        const endpoint = await addEndpoint();
        const minted: { secret: string; createdAt: Date; expiresAt: null }[] = [endpoint.secrets[0]! as { secret: string; createdAt: Date; expiresAt: null }];
        let rotated: EndpointRecord | null = null;
        for (let i = 1; i <= 1_000; i++) {
          const next = { secret: secretValue(), createdAt: at(i), expiresAt: null };
          minted.push(next);
          rotated = await storage().rotateSecret(ORG_A, endpoint.id, next, at(i + grace), at(i));
          expect(rotated?.secrets.length).toBeLessThanOrEqual(3);
        }
        // All 1,000 rotations happened within one grace period: only the count bounds the list.
        expect(rotated?.secrets).toEqual([minted[1_000], { ...minted[999], expiresAt: at(1_000 + grace) }, { ...minted[998], expiresAt: at(999 + grace) }]);
        expect((await storage().getEndpoint(ORG_A, endpoint.id))?.secrets).toEqual(rotated?.secrets);
        await addEvent(ORG_A, [endpoint], at(2_000));
        const [claimed] = await claim(at(2_000));
        expect(claimed!.endpoint.secrets).toEqual(rotated?.secrets);
      }, 120_000);

      it('answers null for another org or a deleted endpoint and keeps the secrets', async () => {
        const endpoint = await addEndpoint();
        const next = { secret: secretValue(), createdAt: at(5), expiresAt: null };
        expect(await storage().rotateSecret(ORG_B, endpoint.id, next, at(100), at(5))).toBeNull();
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toEqual(endpoint);
        await storage().deleteEndpoint(ORG_A, endpoint.id, at(6));
        expect(await storage().rotateSecret(ORG_A, endpoint.id, next, at(100), at(7))).toBeNull();
      });
    });

    describe('insertEvent and getEvent', () => {
      it('writes the event and its deliveries; both read back field for field', async () => {
        const a = await addEndpoint();
        const b = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'failing' });
        const write = eventWrite(ORG_A, [a, b], { createdAt: at(3), idempotencyKey: 'order-1-created' });
        expect(await storage().insertEvent(write)).toEqual({ event: write.event, deliveries: write.deliveries, created: true });
        expect(await storage().getEvent(ORG_A, write.event.id)).toEqual(write.event);
        expect(await storage().getEvent(ORG_B, write.event.id)).toBeNull();
        for (const d of write.deliveries) expect(await storage().getDelivery(ORG_A, d.id)).toEqual({ ...d, attempts: [] });
        expect(write.deliveries.map((d) => d.status)).toEqual(['pending', 'held']);
      });

      it('stores an event with no deliveries', async () => {
        const write = eventWrite(ORG_A, [], { createdAt: at(1) });
        expect(await storage().insertEvent(write)).toEqual({ event: write.event, deliveries: [], created: true });
        expect(await storage().getEvent(ORG_A, write.event.id)).toEqual(write.event);
      });

      it('round-trips any JSON payload exactly', async () => {
        const data = {
          text: 'héllo "quoted" \\ back\nslash ✓ 😀 \u2028',
          nested: { deep: { list: [1, -2.5, 1e21, 0, null, true, false, 'x'], empty: {}, none: [] } },
          big: Number.MAX_SAFE_INTEGER,
          tiny: 5e-324,
        };
        const write = eventWrite(ORG_A, [], { createdAt: at(2), data });
        await storage().insertEvent(write);
        expect((await storage().getEvent(ORG_A, write.event.id))?.data).toEqual(data);
      });

      it('round-trips a NUL character and a 256 KiB string in the payload', async () => {
        const data = { nul: 'before\u0000after', big: 'é'.repeat(128 * 1024), key: 'k\u0000' };
        const write = eventWrite(ORG_A, [], { createdAt: at(2), data });
        await storage().insertEvent(write);
        expect((await storage().getEvent(ORG_A, write.event.id))?.data).toEqual(data);
      });

      it('keeps idempotency keys and org ids byte for byte (case, unicode, length)', async () => {
        const orgs = ['Org_A', 'org_a', 'örg-✓'];
        const key = `Key-${'k'.repeat(200)}-ü`;
        for (const org of orgs) {
          expect((await storage().insertEvent(eventWrite(org, [], { createdAt: at(1), idempotencyKey: key }))).created).toBe(true);
        }
        expect((await storage().insertEvent(eventWrite('org_a', [], { createdAt: at(2), idempotencyKey: key.toUpperCase() }))).created).toBe(true);
        expect((await storage().insertEvent(eventWrite('örg-✓', [], { createdAt: at(3), idempotencyKey: key }))).created).toBe(false);
      });

      it('racing inserts with different keys all write', async () => {
        const endpoint = await addEndpoint();
        const writes = Array.from({ length: 8 }, (_, i) => eventWrite(ORG_A, [endpoint], { createdAt: at(i), idempotencyKey: `k-${i}` }));
        const results = await Promise.all(writes.map((w) => storage().insertEvent(w)));
        expect(results.every((r) => r.created)).toBe(true);
        expect(await storage().listDeliveries(ORG_A, { limit: 100 })).toHaveLength(8);
      });

      it('a repeated idempotency key in the same org writes nothing and returns the first event with its deliveries', async () => {
        const endpoint = await addEndpoint();
        const first = await addEventWithKey(endpoint, 'key-1', at(0));
        const again = eventWrite(ORG_A, [endpoint], { createdAt: at(50), idempotencyKey: 'key-1', data: { other: true } });
        expect(await storage().insertEvent(again)).toEqual({ event: first.event, deliveries: first.deliveries, created: false });
        expect(await storage().getEvent(ORG_A, again.event.id)).toBeNull();
        expect(await storage().getDelivery(ORG_A, again.deliveries[0]!.id)).toBeNull();
        expect(await storage().listDeliveries(ORG_A, { limit: 100 })).toHaveLength(1);
      });

      it('idempotency keys are per org, and events without a key never collide', async () => {
        const a = await addEndpoint(ORG_A);
        const b = await addEndpoint(ORG_B);
        await addEventWithKey(a, 'shared', at(0));
        const inB = eventWrite(ORG_B, [b], { createdAt: at(1), idempotencyKey: 'shared' });
        expect((await storage().insertEvent(inB)).created).toBe(true);
        for (let i = 0; i < 2; i++) {
          expect((await storage().insertEvent(eventWrite(ORG_A, [a], { createdAt: at(2 + i) }))).created).toBe(true);
        }
        expect(await storage().listDeliveries(ORG_A, { limit: 100 })).toHaveLength(3);
      });

      it('of two racing inserts with the same key, exactly one writes, and both answer the same event', async () => {
        const endpoint = await addEndpoint();
        const writes = [0, 1, 2].map((i) => eventWrite(ORG_A, [endpoint], { createdAt: at(i), idempotencyKey: 'race' }));
        const results = await Promise.all(writes.map((w) => storage().insertEvent(w)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const winner = results.find((r) => r.created)!;
        for (const r of results) {
          expect(r.event).toEqual(winner.event);
          expect(r.deliveries).toEqual(winner.deliveries);
        }
        expect(ids(await storage().listDeliveries(ORG_A, { limit: 100 }))).toEqual(ids(winner.deliveries));
      });

      it('is atomic: a write that fails on one delivery leaves no trace of its event or other deliveries', async () => {
        const endpoint = await addEndpoint();
        const existing = await addEvent(ORG_A, [endpoint], at(0));
        const write = eventWrite(ORG_A, [endpoint, endpoint], { createdAt: at(1), idempotencyKey: 'atomic' });
        // The second delivery reuses an id already stored, which every storage must refuse.
        write.deliveries[1] = { ...write.deliveries[1]!, id: existing.deliveries[0]!.id };
        await expect(storage().insertEvent(write)).rejects.toThrow();
        expect(await storage().getEvent(ORG_A, write.event.id)).toBeNull();
        expect(await storage().getDelivery(ORG_A, write.deliveries[0]!.id)).toBeNull();
        expect(await storage().getDelivery(ORG_A, existing.deliveries[0]!.id)).toEqual({ ...existing.deliveries[0]!, attempts: [] });
        // The key was not consumed by the failed write.
        const retry = eventWrite(ORG_A, [endpoint], { createdAt: at(2), idempotencyKey: 'atomic' });
        expect((await storage().insertEvent(retry)).created).toBe(true);
      });

      async function addEventWithKey(endpoint: EndpointRecord, key: string, createdAt: Date): Promise<NewEventWrite> {
        const write = eventWrite(endpoint.orgId, [endpoint], { createdAt, idempotencyKey: key });
        expect((await storage().insertEvent(write)).created).toBe(true);
        return write;
      }
    });

    describe('claimDueDeliveries', () => {
      it('claims only pending deliveries due at now, with their event, endpoint and lease token', async () => {
        const active = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        const due = await addEvent(ORG_A, [active, paused], at(0), at(100));
        await addEvent(ORG_A, [active], at(1), at(101));
        const token = leaseToken();
        const claimed = await claim(at(100), 10, token);
        expect(claimed).toHaveLength(1);
        const [c] = claimed;
        expect(c!.leaseToken).toBe(token);
        // Whether a claim touches updatedAt is the storage's choice: a lease is not a state change.
        expect(c!.delivery).toEqual({ ...due.deliveries[0]!, nextAttemptAt: at(100 + LEASE_MS), updatedAt: expect.any(Date) });
        expect(c!.event).toEqual(due.event);
        expect(c!.endpoint).toEqual(active);
      });

      it('hands out the endpoint as it is at claim time, rotated secrets included', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0), at(50));
        const next = { secret: secretValue(), createdAt: at(20), expiresAt: null };
        const rotated = await storage().rotateSecret(ORG_A, endpoint.id, next, at(86_400_020), at(20));
        const updated = await storage().updateEndpoint(ORG_A, endpoint.id, { url: 'https://moved.example.com/h' }, at(30));
        const [c] = await claim(at(50));
        expect(c!.endpoint).toEqual(updated);
        expect(c!.endpoint.secrets).toEqual(rotated!.secrets);
      });

      it('picks the oldest due first, at most `limit`', async () => {
        const endpoint = await addEndpoint();
        const late = await addEvent(ORG_A, [endpoint], at(0), at(300));
        const early = await addEvent(ORG_A, [endpoint], at(1), at(100));
        const middle = await addEvent(ORG_A, [endpoint], at(2), at(200));
        await addEvent(ORG_A, [endpoint], at(3), at(10_000));
        expect(claimedIds(await claim(at(5_000), 2))).toEqual(sorted([early.deliveries[0]!.id, middle.deliveries[0]!.id]));
        expect(claimedIds(await claim(at(5_000), 2))).toEqual([late.deliveries[0]!.id]);
        expect(await claim(at(5_000), 2)).toEqual([]);
      });

      it('the lease pushes nextAttemptAt to now + leaseMs; once it runs out the delivery is claimable again with a new token', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(0));
        const id = write.deliveries[0]!.id;
        const firstToken = leaseToken();
        expect(claimedIds(await claim(at(0), 10, firstToken, 1_000))).toEqual([id]);
        expect(await readDelivery(ORG_A, id)).toMatchObject({ status: 'pending', nextAttemptAt: at(1_000), attemptCount: 0 });
        expect(await claim(at(999))).toEqual([]);

        const secondToken = leaseToken();
        const again = await claim(at(1_000), 10, secondToken, 1_000);
        expect(claimedIds(again)).toEqual([id]);
        expect(again[0]!.leaseToken).toBe(secondToken);
        const stale = await storage().completeAttempt({ deliveryId: id, leaseToken: firstToken, attempt: null, next: { status: 'succeeded' }, now: at(1_001) });
        expect(stale).toBe(false);
        const fresh = await storage().completeAttempt({ deliveryId: id, leaseToken: secondToken, attempt: null, next: { status: 'succeeded' }, now: at(1_002) });
        expect(fresh).toBe(true);
      });

      it('a delivery whose lease ran out after its endpoint was deleted or paused is claimable again, with that endpoint, so a worker can settle it', async () => {
        const deleted = await addEndpoint();
        const paused = await addEndpoint();
        const write = await addEvent(ORG_A, [deleted, paused], at(0));
        // The worker that claimed them crashes; meanwhile both endpoints change.
        await claim(at(0), 10, leaseToken(), 1_000);
        await storage().deleteEndpoint(ORG_A, deleted.id, at(10));
        await storage().pauseEndpoint(paused.id, 'manual', at(11));
        expect(await storage().nextDueAt()).toEqual(at(1_000));
        const again = await claim(at(1_000));
        expect(claimedIds(again)).toEqual(sorted(ids(write.deliveries)));
        const byEndpoint = new Map(again.map((c) => [c.endpoint.id, c]));
        expect(byEndpoint.get(deleted.id)?.endpoint.deletedAt).toEqual(at(10));
        expect(byEndpoint.get(paused.id)?.endpoint).toMatchObject({ status: 'paused', pausedReason: 'manual' });
        for (const c of again) {
          expect(await storage().completeAttempt({ deliveryId: c.delivery.id, leaseToken: c.leaseToken, attempt: null, next: { status: 'held' }, now: at(1_001) })).toBe(true);
        }
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'cancelled', completedAt: at(1_001) });
        expect(await readDelivery(ORG_A, write.deliveries[1]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await storage().nextDueAt()).toBeNull();
      });

      it('concurrent claimers never receive the same delivery', async () => {
        const endpoints = [await addEndpoint(), await addEndpoint(), await addEndpoint()];
        const all: string[] = [];
        for (let i = 0; i < 10; i++) all.push(...ids((await addEvent(ORG_A, endpoints, at(i))).deliveries));
        const rounds = await Promise.all(Array.from({ length: 4 }, () => claim(at(1_000), 8)));
        const seen = rounds.flatMap(claimedIds);
        expect(new Set(seen).size).toBe(seen.length);
        const rest = claimedIds(await claim(at(1_000), 1000));
        expect(sorted([...seen, ...rest])).toEqual(sorted(all));
      });
    });

    describe('completeAttempt', () => {
      it('records the attempt, increments attemptCount, schedules the next attempt and clears the lease', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(10));
        const first = attempt(c!.delivery, { attemptNumber: 1, startedAt: at(11), statusCode: 503 });
        const ok = await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: first, next: { status: 'pending', nextAttemptAt: at(1_011) }, now: at(48) });
        expect(ok).toBe(true);
        expect(await readDelivery(ORG_A, c!.delivery.id)).toEqual({
          ...write.deliveries[0]!,
          status: 'pending',
          attemptCount: 1,
          nextAttemptAt: at(1_011),
          lastAttemptAt: at(11),
          lastStatusCode: 503,
          lastError: 'http',
          updatedAt: at(48),
          completedAt: null,
          attempts: [first],
        });
        // The lease is gone: the same token cannot complete twice.
        expect(await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: null, next: { status: 'failed' }, now: at(49) })).toBe(false);
        expect(await claim(at(1_010))).toEqual([]);
        const [retry] = await claim(at(1_011));
        expect(retry!.delivery).toMatchObject({ id: c!.delivery.id, attemptCount: 1 });
      });

      it('moves to succeeded or failed with completedAt = now and no next attempt', async () => {
        const endpoint = await addEndpoint();
        const ok = await addEvent(ORG_A, [endpoint], at(0));
        const bad = await addEvent(ORG_A, [endpoint], at(1), at(500));
        await settleDue(at(10), { status: 'succeeded' });
        await settleDue(at(600), { status: 'failed' });
        expect(await readDelivery(ORG_A, ok.deliveries[0]!.id)).toMatchObject({ status: 'succeeded', nextAttemptAt: null, completedAt: at(10), attemptCount: 1, lastStatusCode: 200, lastError: null });
        expect(await readDelivery(ORG_A, bad.deliveries[0]!.id)).toMatchObject({ status: 'failed', nextAttemptAt: null, completedAt: at(600), attemptCount: 1, lastStatusCode: 500, lastError: 'http' });
        expect(await storage().nextDueAt()).toBeNull();
      });

      it('records a network failure without a status code', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        const failed = attempt(c!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: null, errorKind: 'timeout' });
        await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: failed, next: { status: 'pending', nextAttemptAt: at(5_000) }, now: at(2) });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ lastStatusCode: null, lastError: 'timeout', attempts: [failed] });
      });

      it('without an attempt, moves the state and leaves attemptCount and the attempt log alone', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: null, next: { status: 'cancelled' }, now: at(3) });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'cancelled', attemptCount: 0, lastAttemptAt: null, completedAt: at(3), attempts: [] });
      });

      it('of two racing completions with the same lease, exactly one is applied', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        const complete = (status: 'succeeded' | 'failed', n: number) =>
          storage().completeAttempt({
            deliveryId: c!.delivery.id,
            leaseToken: c!.leaseToken,
            attempt: attempt(c!.delivery, { attemptNumber: 1, startedAt: at(n), statusCode: status === 'succeeded' ? 200 : 500 }),
            next: { status },
            now: at(n),
          });
        const results = await Promise.all([complete('succeeded', 5), complete('failed', 6)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        const stored = await readDelivery(ORG_A, c!.delivery.id);
        expect(stored.attempts).toHaveLength(1);
        expect(stored.attemptCount).toBe(1);
        expect(stored.status).toBe(results[0] ? 'succeeded' : 'failed');
      });

      it('answers false for an unknown delivery', async () => {
        const endpoint = await addEndpoint();
        const write = eventWrite(ORG_A, [endpoint], { createdAt: at(0) });
        expect(await storage().completeAttempt({ deliveryId: write.deliveries[0]!.id, leaseToken: leaseToken(), attempt: null, next: { status: 'succeeded' }, now: at(1) })).toBe(false);
        expect(await storage().getDelivery(ORG_A, write.deliveries[0]!.id)).toBeNull();
      });

      it('with a token that no longer holds the lease, is refused and writes nothing', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0), 10, leaseToken(), 1_000);
        await claim(at(1_000), 10, leaseToken(), 1_000);
        const before = await readDelivery(ORG_A, c!.delivery.id);
        const refused = await storage().completeAttempt({
          deliveryId: c!.delivery.id,
          leaseToken: c!.leaseToken,
          attempt: attempt(c!.delivery, { attemptNumber: 1, startedAt: at(900), statusCode: 200 }),
          next: { status: 'succeeded' },
          now: at(1_100),
        });
        expect(refused).toBe(false);
        expect(await readDelivery(ORG_A, c!.delivery.id)).toEqual(before);
        expect(before).toMatchObject({ status: 'pending', attemptCount: 0, attempts: [], nextAttemptAt: at(2_000) });
        expect(await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: leaseToken(), attempt: null, next: { status: 'failed' }, now: at(1_100) })).toBe(false);
      });

      it('stores `pending` as held when the endpoint was paused during the attempt', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'paused', pausedReason: 'manual' }, at(5));
        const ok = await storage().completeAttempt({
          deliveryId: c!.delivery.id,
          leaseToken: c!.leaseToken,
          attempt: attempt(c!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: 500 }),
          next: { status: 'pending', nextAttemptAt: at(1_000) },
          now: at(10),
        });
        expect(ok).toBe(true);
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'held', nextAttemptAt: null, attemptCount: 1, completedAt: null });
        expect(await claim(at(100_000))).toEqual([]);
        await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'active', pausedReason: null }, at(200));
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(200) });
      });

      it('a delivery whose endpoint was deleted during the attempt ends cancelled and is never due again', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        await storage().deleteEndpoint(ORG_A, endpoint.id, at(5));
        const made = attempt(c!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: 500 });
        const ok = await storage().completeAttempt({
          deliveryId: c!.delivery.id,
          leaseToken: c!.leaseToken,
          attempt: made,
          next: { status: 'pending', nextAttemptAt: at(1_000) },
          now: at(10),
        });
        // The request really went out, so the attempt log keeps it.
        expect(ok).toBe(true);
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'cancelled', nextAttemptAt: null, completedAt: at(10), attemptCount: 1, attempts: [made] });
        expect(await claim(at(10_000_000))).toEqual([]);
        expect(await storage().nextDueAt()).toBeNull();
      });

      it('moves to held when asked (the endpoint answered 410 Gone and was paused)', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        expect(await storage().pauseEndpoint(endpoint.id, 'gone', at(2))).not.toBeNull();
        await storage().completeAttempt({
          deliveryId: c!.delivery.id,
          leaseToken: c!.leaseToken,
          attempt: attempt(c!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: 410 }),
          next: { status: 'held' },
          now: at(3),
        });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'held', nextAttemptAt: null, completedAt: null, lastStatusCode: 410 });
      });
    });

    describe('completeAttempt against a concurrent resume', () => {
      it('stores `held` as pending, due at now, when the endpoint is active again by the time the attempt completes', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        await storage().pauseEndpoint(endpoint.id, 'gone', at(1));
        await storage().updateEndpoint(ORG_A, endpoint.id, { status: 'active', pausedReason: null }, at(2));
        await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: null, next: { status: 'held' }, now: at(3) });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(3) });
        expect(claimedIds(await claim(at(3)))).toEqual([c!.delivery.id]);
      });
    });

    describe('completeAttemptAndPause', () => {
      // The seed: "After all retries fail, the webhook is paused". The attempt that exhausts the
      // schedule and the pause must be one step, or a crash between them records the failure and
      // never pauses.
      const andPause = () => {
        const fn = storage().completeAttemptAndPause;
        expect(fn, 'every storage of this package offers completeAttemptAndPause').toBeTypeOf('function');
        return fn!.bind(storage());
      };

      it('records the exhausting attempt, pauses the endpoint and holds its other pending deliveries, answering with the paused endpoint', async () => {
        const endpoint = await addEndpoint();
        const first = await addEvent(ORG_A, [endpoint], at(0));
        const later = await addEvent(ORG_A, [endpoint], at(1), at(5_000));
        const [c] = await claim(at(10));
        expect(c!.delivery.id).toBe(first.deliveries[0]!.id);
        const last = attempt(c!.delivery, { attemptNumber: 1, startedAt: at(11), statusCode: 500 });
        const outcome = await andPause()(
          { deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: last, next: { status: 'failed' }, now: at(20) },
          { endpointId: endpoint.id, reason: 'failing' },
        );
        expect(outcome.recorded).toBe(true);
        expect(outcome.paused).toMatchObject({ id: endpoint.id, status: 'paused', pausedReason: 'failing', updatedAt: at(20) });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'failed', attemptCount: 1, completedAt: at(20), attempts: [last] });
        expect(await readDelivery(ORG_A, later.deliveries[0]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toMatchObject({ status: 'paused', pausedReason: 'failing' });
      });

      it('a 410 answer: the delivery ends held, never pending in between, and the endpoint is paused as gone', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        const gone = attempt(c!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: 410 });
        const outcome = await andPause()(
          { deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: gone, next: { status: 'held' }, now: at(2) },
          { endpointId: endpoint.id, reason: 'gone' },
        );
        expect(outcome).toMatchObject({ recorded: true, paused: { id: endpoint.id, pausedReason: 'gone' } });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'held', nextAttemptAt: null, attemptCount: 1 });
        expect(await claim(at(10_000))).toEqual([]);
      });

      it('with a lost lease, writes nothing: no attempt, no pause', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [stale] = await claim(at(0), 1000, leaseToken(), 10);
        const [fresh] = await claim(at(20));
        expect(fresh!.delivery.id).toBe(stale!.delivery.id);
        const outcome = await andPause()(
          {
            deliveryId: stale!.delivery.id,
            leaseToken: stale!.leaseToken,
            attempt: attempt(stale!.delivery, { attemptNumber: 1, startedAt: at(1), statusCode: 500 }),
            next: { status: 'failed' },
            now: at(30),
          },
          { endpointId: endpoint.id, reason: 'failing' },
        );
        expect(outcome).toEqual({ recorded: false, paused: null });
        expect(await readDelivery(ORG_A, stale!.delivery.id)).toMatchObject({ status: 'pending', attemptCount: 0, attempts: [] });
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toMatchObject({ status: 'active' });
      });

      it('when the endpoint is already paused, records the attempt and answers paused: null (the pause was reported by whoever made it)', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const [c] = await claim(at(0));
        expect(await storage().pauseEndpoint(endpoint.id, 'manual', at(1))).not.toBeNull();
        const outcome = await andPause()(
          {
            deliveryId: c!.delivery.id,
            leaseToken: c!.leaseToken,
            attempt: attempt(c!.delivery, { attemptNumber: 1, startedAt: at(2), statusCode: 500 }),
            next: { status: 'failed' },
            now: at(3),
          },
          { endpointId: endpoint.id, reason: 'failing' },
        );
        expect(outcome).toEqual({ recorded: true, paused: null });
        expect(await storage().getEndpoint(ORG_A, endpoint.id)).toMatchObject({ status: 'paused', pausedReason: 'manual' });
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'failed', attemptCount: 1 });
      });
    });

    describe('releaseLeases', () => {
      it('gives back deliveries leased with the token, due at now, and counts them', async () => {
        const endpoint = await addEndpoint();
        for (let i = 0; i < 3; i++) await addEvent(ORG_A, [endpoint], at(i));
        const token = leaseToken();
        const claimed = await claim(at(10), 2, token);
        const unclaimed = (await storage().listDeliveries(ORG_A, { limit: 10 })).find((d) => !claimedIds(claimed).includes(d.id))!;

        expect(await storage().releaseLeases(claimedIds(claimed), leaseToken(), at(20))).toBe(0);
        expect(await claim(at(20))).toHaveLength(1);
        expect(await storage().releaseLeases([...claimedIds(claimed), unclaimed.id], token, at(30))).toBe(2);
        for (const id of claimedIds(claimed)) expect(await readDelivery(ORG_A, id)).toMatchObject({ status: 'pending', nextAttemptAt: at(30), attemptCount: 0 });
        expect(claimedIds(await claim(at(30)))).toEqual(claimedIds(claimed));
        // Released leases cannot be completed with the old token.
        expect(await storage().completeAttempt({ deliveryId: claimed[0]!.delivery.id, leaseToken: token, attempt: null, next: { status: 'failed' }, now: at(31) })).toBe(false);
      });

      it('holds a released delivery whose endpoint was paused meanwhile, and cancels one whose endpoint was deleted', async () => {
        const paused = await addEndpoint();
        const deleted = await addEndpoint();
        const write = await addEvent(ORG_A, [paused, deleted], at(0));
        const token = leaseToken();
        expect(await claim(at(0), 10, token)).toHaveLength(2);
        await storage().pauseEndpoint(paused.id, 'manual', at(1));
        await storage().deleteEndpoint(ORG_A, deleted.id, at(2));
        expect(await storage().releaseLeases(ids(write.deliveries), token, at(3))).toBe(2);
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'held', nextAttemptAt: null });
        expect(await readDelivery(ORG_A, write.deliveries[1]!.id)).toMatchObject({ status: 'cancelled', nextAttemptAt: null });
        expect(await claim(at(1_000_000))).toEqual([]);
      });

      it('does not count or touch a delivery already completed under that lease', async () => {
        const endpoint = await addEndpoint();
        await addEvent(ORG_A, [endpoint], at(0));
        const token = leaseToken();
        const [c] = await claim(at(0), 10, token);
        await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: token, attempt: null, next: { status: 'succeeded' }, now: at(1) });
        expect(await storage().releaseLeases([c!.delivery.id], token, at(2))).toBe(0);
        expect(await readDelivery(ORG_A, c!.delivery.id)).toMatchObject({ status: 'succeeded', completedAt: at(1), nextAttemptAt: null });
      });

      it('answers 0 for an empty list', async () => {
        expect(await storage().releaseLeases([], leaseToken(), at(0))).toBe(0);
      });
    });

    describe('nextDueAt', () => {
      it('is null with nothing pending, then the earliest pending nextAttemptAt, following leases and holds', async () => {
        expect(await storage().nextDueAt()).toBeNull();
        const endpoint = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        await addEvent(ORG_A, [paused], at(0), at(5));
        expect(await storage().nextDueAt()).toBeNull();
        await addEvent(ORG_A, [endpoint], at(1), at(700));
        await addEvent(ORG_A, [endpoint], at(2), at(300));
        expect(await storage().nextDueAt()).toEqual(at(300));
        await claim(at(300), 1, leaseToken(), 1_000);
        expect(await storage().nextDueAt()).toEqual(at(700));
        await settleDue(at(700), { status: 'succeeded' });
        expect(await storage().nextDueAt()).toEqual(at(1_300));
      });
    });

    describe('listDeliveries', () => {
      it('filters by endpoint, event, status and [since, until) on createdAt, newest first, only the org’s own', async () => {
        const a = await addEndpoint();
        const b = await addEndpoint();
        const e1 = await addEvent(ORG_A, [a, b], at(1_000));
        const e2 = await addEvent(ORG_A, [a], at(2_000), at(9_000));
        const e3 = await addEvent(ORG_A, [b], at(3_000));
        const foreign = await addEndpoint(ORG_B);
        await addEvent(ORG_B, [foreign], at(1_500));
        await settleDue(at(3_000), { status: 'failed' });

        const list = (q: Omit<Parameters<Storage['listDeliveries']>[1], 'limit'>) => storage().listDeliveries(ORG_A, { limit: 100, ...q }).then(ids);
        const [d1a, d1b] = ids(e1.deliveries);
        const [d2a] = ids(e2.deliveries);
        const [d3b] = ids(e3.deliveries);
        expect(await list({})).toEqual([d3b, d2a, d1b, d1a]);
        expect(await list({ endpointId: a.id })).toEqual([d2a, d1a]);
        expect(await list({ eventId: e1.event.id })).toEqual([d1b, d1a]);
        expect(await list({ status: 'pending' })).toEqual([d2a]);
        expect(await list({ status: 'failed', endpointId: b.id })).toEqual([d3b, d1b]);
        expect(await list({ since: at(2_000) })).toEqual([d3b, d2a]);
        expect(await list({ until: at(2_000) })).toEqual([d1b, d1a]);
        expect(await list({ since: at(1_000), until: at(3_000) })).toEqual([d2a, d1b, d1a]);
        expect(await list({ endpointId: foreign.id })).toEqual([]);
        expect(await storage().listDeliveries(ORG_B, { limit: 100 })).toHaveLength(1);
      });

      it('orders by id even when deliveries were written out of id order (racing emits)', async () => {
        const endpoint = await addEndpoint();
        const older = eventWrite(ORG_A, [endpoint], { createdAt: at(0) });
        const newer = eventWrite(ORG_A, [endpoint], { createdAt: at(1) });
        await storage().insertEvent(newer);
        await storage().insertEvent(older);
        const expected = [newer.deliveries[0]!.id, older.deliveries[0]!.id];
        expect(ids(await storage().listDeliveries(ORG_A, { limit: 10 }))).toEqual(expected);
        expect(ids(await storage().listDeliveries(ORG_A, { limit: 10, beforeId: expected[0] }))).toEqual([expected[1]]);
      });

      it('pages with limit and beforeId, stable while new deliveries arrive', async () => {
        const endpoint = await addEndpoint();
        const all: string[] = [];
        for (let i = 0; i < 7; i++) all.unshift(...ids((await addEvent(ORG_A, [endpoint], at(i))).deliveries));
        const seen: string[] = [];
        let beforeId: string | undefined;
        for (;;) {
          const page = await storage().listDeliveries(ORG_A, { limit: 3, ...(beforeId ? { beforeId } : {}) });
          seen.push(...ids(page));
          if (page.length < 3) break;
          beforeId = page[page.length - 1]!.id;
          await addEvent(ORG_A, [endpoint], at(100 + seen.length));
        }
        expect(seen).toEqual(all);
      });
    });

    describe('getDelivery', () => {
      it('returns the delivery with its attempts oldest first, and null for another org or an unknown id', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(0));
        const made = [];
        for (let n = 1; n <= 3; n++) {
          const [c] = await claim(at(n * 1_000));
          const a = attempt(c!.delivery, { attemptNumber: n, startedAt: at(n * 1_000 + 1), statusCode: n === 3 ? 200 : 502 });
          made.push(a);
          const next: NextDeliveryState = n === 3 ? { status: 'succeeded' } : { status: 'pending', nextAttemptAt: at((n + 1) * 1_000) };
          expect(await storage().completeAttempt({ deliveryId: c!.delivery.id, leaseToken: c!.leaseToken, attempt: a, next, now: at(n * 1_000 + 2) })).toBe(true);
        }
        const got = await readDelivery(ORG_A, write.deliveries[0]!.id);
        expect(got.attempts).toEqual(made);
        expect(got).toMatchObject({ status: 'succeeded', attemptCount: 3, lastStatusCode: 200, lastAttemptAt: at(3_001), completedAt: at(3_002) });
        expect(await storage().getDelivery(ORG_B, write.deliveries[0]!.id)).toBeNull();
        expect(await storage().getDelivery(ORG_A, delivery(write.event, endpoint).id)).toBeNull();
      });
    });

    describe('retryDelivery', () => {
      it('makes a succeeded, failed or cancelled delivery pending and due at now, keeping its attempt count', async () => {
        const endpoint = await addEndpoint();
        const writes = [await addEvent(ORG_A, [endpoint], at(0)), await addEvent(ORG_A, [endpoint], at(1), at(100)), await addEvent(ORG_A, [endpoint], at(2), at(200))];
        await settleDue(at(50), { status: 'succeeded' });
        await settleDue(at(150), { status: 'failed' });
        await settleDue(at(250), { status: 'cancelled' });
        for (const w of writes) {
          const retried = await storage().retryDelivery(ORG_A, w.deliveries[0]!.id, at(1_000));
          // The retry schedule restarts at the requeue: requeuedAtAttempt marks where.
          expect(retried).toMatchObject({ id: w.deliveries[0]!.id, status: 'pending', nextAttemptAt: at(1_000), completedAt: null, attemptCount: 1, requeuedAtAttempt: 1, updatedAt: at(1_000) });
          expect(await readDelivery(ORG_A, w.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(1_000), attemptCount: 1, requeuedAtAttempt: 1 });
        }
        expect(claimedIds(await claim(at(1_000)))).toEqual(sorted(writes.map((w) => w.deliveries[0]!.id)));
      });

      it('leaves a pending or held delivery as it is', async () => {
        const endpoint = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        const write = await addEvent(ORG_A, [endpoint, paused], at(0), at(5_000));
        const [pending, held] = write.deliveries;
        expect(await storage().retryDelivery(ORG_A, pending!.id, at(10))).toEqual(pending);
        expect(await storage().retryDelivery(ORG_A, held!.id, at(10))).toEqual(held);
        expect(await readDelivery(ORG_A, pending!.id)).toEqual({ ...pending!, attempts: [] });
      });

      it('holds the retried delivery when its endpoint is paused', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(0));
        await settleDue(at(0), { status: 'failed' });
        await storage().pauseEndpoint(endpoint.id, 'failing', at(1));
        expect(await storage().retryDelivery(ORG_A, write.deliveries[0]!.id, at(2))).toMatchObject({ status: 'held', nextAttemptAt: null, completedAt: null });
        expect(await claim(at(1_000_000))).toEqual([]);
      });

      it('answers null for another org or when the endpoint is deleted, changing nothing', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(0));
        await settleDue(at(0), { status: 'failed' });
        const id = write.deliveries[0]!.id;
        expect(await storage().retryDelivery(ORG_B, id, at(5))).toBeNull();
        expect(await readDelivery(ORG_A, id)).toMatchObject({ status: 'failed' });
        await storage().deleteEndpoint(ORG_A, endpoint.id, at(6));
        expect(await storage().retryDelivery(ORG_A, id, at(7))).toBeNull();
        expect(await readDelivery(ORG_A, id)).toMatchObject({ status: 'failed', completedAt: at(0) });
      });
    });

    describe('replayDeliveries', () => {
      async function history(): Promise<{ endpoint: EndpointRecord; created: Record<number, string> }> {
        const endpoint = await addEndpoint();
        const other = await addEndpoint();
        const created: Record<number, string> = {};
        // Deliveries created at 1s, 2s, 3s, 4s; the first two succeed, the next two fail.
        for (const t of [1_000, 2_000, 3_000, 4_000]) {
          const w = await addEvent(ORG_A, [endpoint, other], at(t), at(t < 2_500 ? 10_000 : 20_000));
          created[t] = w.deliveries[0]!.id;
        }
        await settleDue(at(10_000), { status: 'succeeded' });
        await settleDue(at(20_000), { status: 'failed' });
        const cancelled = await addEvent(ORG_A, [endpoint], at(2_500), at(30_000));
        await settleDue(at(30_000), { status: 'cancelled' });
        created[2_500] = cancelled.deliveries[0]!.id;
        await addEvent(ORG_A, [endpoint], at(3_500), at(900_000));
        return { endpoint, created };
      }

      it('re-enqueues the endpoint’s succeeded and failed deliveries created in [since, until), answering how many', async () => {
        const { endpoint, created } = await history();
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(2_000), until: at(4_000) }, at(50_000))).toBe(2);
        for (const t of [2_000, 3_000]) expect(await readDelivery(ORG_A, created[t]!)).toMatchObject({ status: 'pending', nextAttemptAt: at(50_000), completedAt: null });
        expect(await readDelivery(ORG_A, created[1_000]!)).toMatchObject({ status: 'succeeded' });
        expect(await readDelivery(ORG_A, created[4_000]!)).toMatchObject({ status: 'failed' });
        expect(await readDelivery(ORG_A, created[2_500]!)).toMatchObject({ status: 'cancelled' });
        // Only this endpoint's deliveries were touched.
        expect(claimedIds(await claim(at(50_000)))).toEqual(sorted([created[2_000]!, created[3_000]!]));
      });

      it('without until, replays everything from since; with status, only that state', async () => {
        const { endpoint, created } = await history();
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(0), status: 'failed' }, at(50_000))).toBe(2);
        expect(claimedIds(await claim(at(50_000)))).toEqual(sorted([created[3_000]!, created[4_000]!]));
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(2_000) }, at(60_000))).toBe(1);
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(0), status: 'cancelled' }, at(60_000))).toBe(1);
        expect(await readDelivery(ORG_A, created[2_500]!)).toMatchObject({ status: 'pending', nextAttemptAt: at(60_000) });
      });

      it('never touches deliveries that are not finished, whatever status is asked for', async () => {
        const { endpoint } = await history();
        for (const status of ['pending', 'held'] as const) {
          expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(0), status }, at(50_000))).toBe(0);
        }
        expect((await storage().listDeliveries(ORG_A, { limit: 100, status: 'pending', endpointId: endpoint.id })).map((d) => d.nextAttemptAt)).toEqual([at(900_000)]);
      });

      it('without until, includes deliveries created up to now', async () => {
        const endpoint = await addEndpoint();
        const write = await addEvent(ORG_A, [endpoint], at(100));
        await settleDue(at(100), { status: 'failed' });
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(100) }, at(101))).toBe(1);
        expect(await readDelivery(ORG_A, write.deliveries[0]!.id)).toMatchObject({ status: 'pending', nextAttemptAt: at(101) });
      });

      it('answers 0 for another org’s endpoint and re-enqueues as held for a paused one', async () => {
        const { endpoint, created } = await history();
        expect(await storage().replayDeliveries(ORG_B, endpoint.id, { since: at(0) }, at(50_000))).toBe(0);
        expect(await readDelivery(ORG_A, created[1_000]!)).toMatchObject({ status: 'succeeded' });
        await storage().pauseEndpoint(endpoint.id, 'manual', at(40_000));
        expect(await storage().replayDeliveries(ORG_A, endpoint.id, { since: at(0) }, at(50_000))).toBe(4);
        expect(await readDelivery(ORG_A, created[1_000]!)).toMatchObject({ status: 'held', nextAttemptAt: null, completedAt: null });
        expect(claimedIds(await claim(at(50_000)))).toEqual([]);
      });
    });

    describe('prune', () => {
      it('deletes finished deliveries completed before olderThan, their attempts, and events left with no delivery', async () => {
        const a = await addEndpoint();
        const b = await addEndpoint();
        const old = await addEvent(ORG_A, [a, b], at(0), at(100));
        const mixed = await addEvent(ORG_A, [a, b], at(1), at(100));
        const recent = await addEvent(ORG_A, [a], at(2), at(5_000));
        await settleDue(at(100), { status: 'failed' });
        // The second delivery of `mixed` goes again and is still pending when pruning runs.
        await storage().retryDelivery(ORG_A, mixed.deliveries[1]!.id, at(200));
        const [again] = await claim(at(200));
        expect(again?.delivery.id).toBe(mixed.deliveries[1]!.id);
        await storage().completeAttempt({ deliveryId: again!.delivery.id, leaseToken: again!.leaseToken, attempt: null, next: { status: 'pending', nextAttemptAt: at(9_000) }, now: at(201) });
        await settleDue(at(5_000), { status: 'succeeded' });

        const result = await storage().prune({ olderThan: at(5_000) });
        expect(result).toEqual({ deliveries: 3, attempts: 3, events: 1 });
        for (const d of old.deliveries) expect(await storage().getDelivery(ORG_A, d.id)).toBeNull();
        expect(await storage().getDelivery(ORG_A, mixed.deliveries[0]!.id)).toBeNull();
        expect(await storage().getEvent(ORG_A, old.event.id)).toBeNull();
        expect(await storage().getEvent(ORG_A, mixed.event.id)).toEqual(mixed.event);
        expect(await readDelivery(ORG_A, mixed.deliveries[1]!.id)).toMatchObject({ status: 'pending', attempts: [expect.objectContaining({ attemptNumber: 1 })] });
        expect(await readDelivery(ORG_A, recent.deliveries[0]!.id)).toMatchObject({ status: 'succeeded', completedAt: at(5_000) });
        expect(await storage().getEvent(ORG_A, recent.event.id)).toEqual(recent.event);

        expect(await storage().prune({ olderThan: at(5_000) })).toEqual({ deliveries: 0, attempts: 0, events: 0 });
      });

      it('prunes cancelled deliveries like other finished ones, and never pending or held ones however old', async () => {
        const gone = await addEndpoint();
        const paused = await addEndpoint(ORG_A, { status: 'paused', pausedReason: 'manual' });
        const waiting = await addEndpoint();
        const cancelled = await addEvent(ORG_A, [gone], at(0), at(1_000_000));
        const held = await addEvent(ORG_A, [paused], at(1));
        const pending = await addEvent(ORG_A, [waiting], at(2), at(9_000_000));
        await storage().deleteEndpoint(ORG_A, gone.id, at(3));
        expect(await storage().prune({ olderThan: at(100_000_000) })).toEqual({ deliveries: 1, attempts: 0, events: 1 });
        expect(await storage().getDelivery(ORG_A, cancelled.deliveries[0]!.id)).toBeNull();
        expect(await readDelivery(ORG_A, held.deliveries[0]!.id)).toMatchObject({ status: 'held' });
        expect(await readDelivery(ORG_A, pending.deliveries[0]!.id)).toMatchObject({ status: 'pending' });
      });

      it('makes an idempotency key reusable once its event is pruned', async () => {
        const endpoint = await addEndpoint();
        const first = eventWrite(ORG_A, [endpoint], { createdAt: at(0), idempotencyKey: 'once' });
        await storage().insertEvent(first);
        await settleDue(at(0), { status: 'succeeded' });
        expect(await storage().prune({ olderThan: at(1) })).toEqual({ deliveries: 1, attempts: 1, events: 1 });
        const second = eventWrite(ORG_A, [endpoint], { createdAt: at(10), idempotencyKey: 'once' });
        expect(await storage().insertEvent(second)).toMatchObject({ created: true, event: second.event });
      });

      it('also deletes events created before olderThan that never had a delivery, and keeps newer ones', async () => {
        const lonely = eventWrite(ORG_A, [], { createdAt: at(0), idempotencyKey: 'nobody-listens' });
        const newer = eventWrite(ORG_A, [], { createdAt: at(2_000) });
        await storage().insertEvent(lonely);
        await storage().insertEvent(newer);
        expect(await storage().prune({ olderThan: at(1_000) })).toEqual({ deliveries: 0, attempts: 0, events: 1 });
        expect(await storage().getEvent(ORG_A, lonely.event.id)).toBeNull();
        expect(await storage().getEvent(ORG_A, newer.event.id)).toEqual(newer.event);
      });
    });

    describe('against the reference model', () => {
      it('random sequences of operations leave it in the same observable state as memory storage, step by step', async () => {
        await fc.assert(
          fc.asyncProperty(storageOperations, async (steps) => {
            // A fresh pair per sequence: nextDueAt and prune see the whole storage.
            const subject = await open();
            const reference = memoryStorage();
            try {
              const script = new OperationScript();
              await script.setUp(subject.storage);
              await script.setUp(reference);
              for (const step of steps) {
                const call = await script.prepare(step, reference);
                const expected = await call(reference);
                const actual = await call(subject.storage);
                expect({ step, result: actual }).toEqual({ step, result: expected });
                expect(await script.observe(subject.storage)).toEqual(await script.observe(reference));
              }
              expect(await script.observe(subject.storage, { full: true })).toEqual(await script.observe(reference, { full: true }));
            } finally {
              await subject.close();
            }
          }),
          // Every run opens a fresh storage: a handful for the databases, more where it is free.
          { numRuns: storage().kind === 'memory' ? 40 : 5 },
        );
      });
    });

    describe('values', () => {
      it('Dates round-trip to the millisecond, including far past and far future instants', async () => {
        const created = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999));
        const record = endpointRecord(ORG_A, created, { updatedAt: new Date(Date.UTC(2100, 0, 1, 0, 0, 0, 1)) });
        record.secrets = [{ secret: secretValue(), createdAt: new Date(Date.UTC(2026, 5, 15, 6, 7, 8, 9)), expiresAt: null }];
        await storage().createEndpoint(record, CAP);
        const got = await storage().getEndpoint(ORG_A, record.id);
        expect(got?.createdAt).toBeInstanceOf(Date);
        expect(got?.createdAt.getTime()).toBe(created.getTime());
        expect(got?.updatedAt.getTime()).toBe(Date.UTC(2100, 0, 1, 0, 0, 0, 1));
        expect(got?.secrets[0]?.createdAt.getTime()).toBe(Date.UTC(2026, 5, 15, 6, 7, 8, 9));
        const write = eventWrite(ORG_A, [record], { createdAt: at(1), dueAt: at(777) });
        await storage().insertEvent(write);
        const [c] = await claim(at(777), 10, leaseToken(), 1);
        expect(c?.delivery.nextAttemptAt?.getTime()).toBe(at(778).getTime());
        expect((await storage().getEvent(ORG_A, write.event.id))?.createdAt.getTime()).toBe(at(1).getTime());
      });

      it('returned objects are copies: mutating them, or the written input, changes nothing stored', async () => {
        const record = endpointRecord(ORG_A, at(0), { filter: { agentId: 'a' } });
        const snapshot = structuredClone(record);
        const returned = await storage().createEndpoint(record, CAP);
        record.events.push('order.refunded');
        record.secrets[0]!.createdAt.setTime(0);
        returned.events.push('order.shipped');
        returned.filter!.agentId = 'mutated';
        returned.secrets.push({ secret: 'leak', createdAt: at(0), expiresAt: null });
        returned.createdAt.setTime(0);
        const read = await storage().getEndpoint(ORG_A, record.id);
        expect(read).toEqual(snapshot);
        read!.url = 'https://changed.example.com';
        read!.updatedAt.setTime(1);
        expect(await storage().getEndpoint(ORG_A, record.id)).toEqual(snapshot);
        const listed = await storage().listEndpoints(ORG_A, { limit: 1 });
        listed[0]!.events.length = 0;
        expect(await storage().getEndpoint(ORG_A, record.id)).toEqual(snapshot);

        const write = eventWrite(ORG_A, [snapshot], { createdAt: at(1), data: { nested: { n: 1 } } });
        const writeSnapshot = structuredClone(write);
        const inserted = await storage().insertEvent(write);
        (write.event.data as { nested: { n: number } }).nested.n = 2;
        write.deliveries[0]!.nextAttemptAt!.setTime(0);
        (inserted.event.data as { nested: { n: number } }).nested.n = 3;
        inserted.deliveries[0]!.status = 'failed';
        const event = await storage().getEvent(ORG_A, write.event.id);
        expect(event).toEqual(writeSnapshot.event);
        (event!.data as { nested: { n: number } }).nested.n = 4;
        expect(await storage().getEvent(ORG_A, write.event.id)).toEqual(writeSnapshot.event);

        const [c] = await claim(at(1));
        c!.delivery.status = 'succeeded';
        c!.endpoint.secrets.length = 0;
        (c!.event.data as { nested: { n: number } }).nested.n = 5;
        const d = await readDelivery(ORG_A, writeSnapshot.deliveries[0]!.id);
        expect(d.status).toBe('pending');
        d.attemptCount = 99;
        expect((await readDelivery(ORG_A, d.id)).attemptCount).toBe(0);
        expect((await storage().getEndpoint(ORG_A, record.id))?.secrets).toHaveLength(1);
        expect(await storage().getEvent(ORG_A, write.event.id)).toEqual(writeSnapshot.event);
      });
    });
  });
}
