import fc from 'fast-check';
import type { Delivery, EndpointRecord, WebhookEvent } from '../../src/model.js';
import type { NextDeliveryState, Storage } from '../../src/storage/storage.js';
import { at, attempt, endpointRecord, eventWrite } from './storage-fixtures.js';

/**
 * Random sequences of storage operations, applied identically to a storage under test and to a
 * reference storage, so their observable states can be compared step by step. Everything that
 * could legitimately differ between correct storages (ids, tokens, which of several equally due
 * deliveries a limited claim picks) is fixed up front or avoided: claims take everything due.
 */

export const MODEL_ORGS = ['org_model_a', 'org_model_b'] as const;
const ENDPOINTS_PER_ORG = 2;

export type StorageOperation =
  | { kind: 'emit'; org: number; endpoints: number[]; dueIn: number; key: number | null }
  | { kind: 'claim'; leaseMs: number }
  | { kind: 'complete'; pick: number; outcome: 'succeeded' | 'failed' | 'retry' | 'held' | 'cancelled' | 'none'; delay: number }
  | { kind: 'release'; pick: number }
  | { kind: 'pause'; endpoint: number; via: 'pauseEndpoint' | 'updateEndpoint' }
  | { kind: 'resume'; endpoint: number }
  | { kind: 'delete'; endpoint: number }
  | { kind: 'retry'; pick: number }
  | { kind: 'replay'; endpoint: number; sinceBack: number; status: 'succeeded' | 'failed' | null }
  | { kind: 'prune'; olderThanBack: number };

export interface TimedOperation {
  /** Milliseconds since the previous operation. */
  advance: number;
  op: StorageOperation;
}

const endpointIndex = fc.integer({ min: 0, max: MODEL_ORGS.length * ENDPOINTS_PER_ORG - 1 });

export const storageOperation: fc.Arbitrary<StorageOperation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('emit' as const),
      org: fc.integer({ min: 0, max: MODEL_ORGS.length - 1 }),
      endpoints: fc.subarray([0, 1], { minLength: 1 }),
      dueIn: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 3_000 }) }),
      key: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('claim' as const), leaseMs: fc.integer({ min: 1, max: 6_000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'retry' as const, 'held' as const, 'cancelled' as const, 'none' as const),
      delay: fc.integer({ min: 1, max: 2_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), endpoint: endpointIndex, via: fc.constantFrom('pauseEndpoint' as const, 'updateEndpoint' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), endpoint: endpointIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), endpoint: endpointIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replay' as const),
      endpoint: endpointIndex,
      sinceBack: fc.integer({ min: 0, max: 60_000 }),
      status: fc.constantFrom('succeeded' as const, 'failed' as const, null),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), olderThanBack: fc.integer({ min: 0, max: 10_000 }) }) },
);

export const storageOperations: fc.Arbitrary<TimedOperation[]> = fc.array(fc.record({ advance: fc.integer({ min: 1, max: 600 }), op: storageOperation }), {
  minLength: 5,
  maxLength: 30,
  size: 'max',
});

/** Ids, tokens and payloads shared by both storages, so they receive byte-identical writes. */
export class OperationScript {
  private readonly endpoints: EndpointRecord[];
  private readonly leases: { deliveryId: string; token: string }[] = [];
  private tokenCount = 0;
  now = 0;

  constructor() {
    this.endpoints = MODEL_ORGS.flatMap((org) => Array.from({ length: ENDPOINTS_PER_ORG }, () => endpointRecord(org, at(0))));
  }

  /** Creates the endpoints in `storage`. */
  async setUp(storage: Storage): Promise<void> {
    for (const e of this.endpoints) await storage.createEndpoint(e, { maxPerOrg: 50 });
  }

  /**
   * Turns one random operation into a concrete call (the same for every storage). `read` is a
   * storage used to resolve picks (the reference), so both storages are driven with the same ids.
   */
  async prepare(step: TimedOperation, read: Storage): Promise<(storage: Storage) => Promise<unknown>> {
    this.now += step.advance;
    const now = at(this.now);
    const op = step.op;
    switch (op.kind) {
      case 'emit': {
        const org = MODEL_ORGS[op.org] as string;
        const mine = this.endpoints.filter((e) => e.orgId === org);
        // Each storage writes the endpoint as it currently stands (paused → held).
        const current = await Promise.all(op.endpoints.map((i) => read.getEndpoint(org, (mine[i] as EndpointRecord).id)));
        const write = eventWrite(
          org,
          current.filter((e): e is EndpointRecord => e !== null),
          { createdAt: now, dueAt: at(this.now + op.dueIn), idempotencyKey: op.key === null ? null : `key-${op.key}`, data: { step: this.now, nested: { ok: true } } },
        );
        return async (s) => {
          const result = await s.insertEvent(structuredClone(write));
          return { ...result, deliveries: result.deliveries.map(withoutUpdatedAt) };
        };
      }
      case 'claim': {
        const token = `lease-${String(++this.tokenCount).padStart(6, '0')}`;
        return async (s) => {
          const claimed = await s.claimDueDeliveries({ now, limit: 1_000, leaseMs: op.leaseMs, leaseToken: token });
          if (s === read) for (const c of claimed) this.leases.push({ deliveryId: c.delivery.id, token });
          return claimed.map((c) => ({ delivery: withoutUpdatedAt(c.delivery), event: c.event, endpoint: c.endpoint, leaseToken: c.leaseToken })).sort(byDeliveryId);
        };
      }
      case 'complete': {
        const lease = this.takeLease(op.pick);
        if (!lease) return async () => null;
        // The delivery may be gone (pruned) or settled by now; the completion must then be refused.
        const d = (await this.allDeliveries(read)).find((x) => x.id === lease.deliveryId);
        const made = op.outcome === 'none' || !d ? null : attempt(d, { attemptNumber: d.attemptCount + 1, startedAt: now, statusCode: op.outcome === 'succeeded' ? 204 : 503 });
        const next: NextDeliveryState =
          op.outcome === 'retry' || op.outcome === 'none'
            ? { status: 'pending', nextAttemptAt: at(this.now + op.delay) }
            : op.outcome === 'held'
              ? { status: 'held' }
              : { status: op.outcome };
        return (s) => s.completeAttempt({ deliveryId: lease.deliveryId, leaseToken: lease.token, attempt: made, next, now });
      }
      case 'release': {
        const lease = this.takeLease(op.pick);
        if (!lease) return async () => null;
        return (s) => s.releaseLeases([lease.deliveryId], lease.token, now);
      }
      case 'pause': {
        const e = this.endpoints[op.endpoint] as EndpointRecord;
        return op.via === 'pauseEndpoint'
          ? (s) => s.pauseEndpoint(e.id, 'failing', now)
          : (s) => s.updateEndpoint(e.orgId, e.id, { status: 'paused', pausedReason: 'manual' }, now);
      }
      case 'resume': {
        const e = this.endpoints[op.endpoint] as EndpointRecord;
        return (s) => s.updateEndpoint(e.orgId, e.id, { status: 'active', pausedReason: null }, now);
      }
      case 'delete': {
        const e = this.endpoints[op.endpoint] as EndpointRecord;
        return (s) => s.deleteEndpoint(e.orgId, e.id, now);
      }
      case 'retry': {
        const all = await this.allDeliveries(read);
        if (all.length === 0) return async () => null;
        const d = all[op.pick % all.length] as Delivery;
        return async (s) => {
          const result = await s.retryDelivery(d.orgId, d.id, now);
          return result && withoutUpdatedAt(result);
        };
      }
      case 'replay': {
        const e = this.endpoints[op.endpoint] as EndpointRecord;
        const query = { since: at(this.now - op.sinceBack), ...(op.status ? { status: op.status } : {}) };
        return (s) => s.replayDeliveries(e.orgId, e.id, query, now);
      }
      case 'prune':
        return (s) => s.prune({ olderThan: at(this.now - op.olderThanBack) });
    }
  }

  /**
   * What a caller can observe, in a comparable form: states after every step (a few queries),
   * and with `full` also every attempt log and event (a query per row, so once per sequence).
   */
  async observe(storage: Storage, { full = false } = {}): Promise<unknown> {
    const deliveries = await this.allDeliveries(storage);
    const state = {
      endpoints: await Promise.all(MODEL_ORGS.map((org) => storage.listEndpoints(org, { limit: 100 }))),
      deliveries: deliveries.map(withoutUpdatedAt),
      nextDueAt: await storage.nextDueAt(),
    };
    if (!full) return state;
    const attempts = await Promise.all(deliveries.map(async (d) => (await storage.getDelivery(d.orgId, d.id))?.attempts));
    const eventKeys = [...new Map(deliveries.map((d) => [d.eventId, d.orgId])).entries()];
    const events: (WebhookEvent | null)[] = await Promise.all(eventKeys.map(([eventId, orgId]) => storage.getEvent(orgId, eventId)));
    return { ...state, attempts, events };
  }

  private takeLease(pick: number): { deliveryId: string; token: string } | undefined {
    if (this.leases.length === 0) return undefined;
    return this.leases.splice(pick % this.leases.length, 1)[0];
  }

  private async allDeliveries(storage: Storage): Promise<Delivery[]> {
    const lists = await Promise.all(MODEL_ORGS.map((org) => storage.listDeliveries(org, { limit: 10_000 })));
    return lists.flat();
  }
}

/** Whether a claim stamps `updatedAt` is left to each storage, so comparisons ignore it. */
function withoutUpdatedAt(d: Delivery): Omit<Delivery, 'updatedAt'> {
  const { updatedAt: _ignored, ...rest } = d;
  return rest;
}

function byDeliveryId(a: { delivery: { id: string } }, b: { delivery: { id: string } }): number {
  return a.delivery.id < b.delivery.id ? -1 : a.delivery.id > b.delivery.id ? 1 : 0;
}
