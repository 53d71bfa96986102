import { describe, expect, it } from 'vitest';
import {
  afterAttempt,
  applyPatch,
  dependsOnEndpoint,
  FINISHED_STATUSES,
  isFinished,
  onEndpointChange,
  pauseFor,
  placeAtWrite,
  placeByEndpoint,
  releaseLease,
  replayedStatuses,
  requeue,
  resendPlacement,
  settleAttempt,
  underLiveLease,
  verdictOf,
  type EndpointState,
} from '../../src/delivery/transitions.js';
import { DELIVERY_STATUSES, type Delivery, type DeliveryStatus } from '../../src/model.js';
import type { NextDeliveryState } from '../../src/storage/storage.js';
import { at, endpointRecord } from '../support/storage-fixtures.js';

const NOW = at(60_000);
const LATER = at(120_000);
const ACTIVE: EndpointState = { status: 'active', deletedAt: null };
const PAUSED: EndpointState = { status: 'paused', deletedAt: null };
const DELETED: EndpointState = { status: 'active', deletedAt: at(1_000) };
const DELETED_MS: EndpointState = { status: 'paused', deletedAt: at(1_000).getTime() };

function delivery(overrides: Partial<Delivery> = {}): Delivery {
  return {
    id: 'dlv_1',
    orgId: 'org_1',
    eventId: 'evt_1',
    endpointId: 'wh_1',
    eventType: 'execution.completed',
    status: 'pending',
    attemptCount: 0,
    requeuedAtAttempt: 0,
    nextAttemptAt: at(0),
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    createdAt: at(0),
    updatedAt: at(0),
    completedAt: null,
    ...overrides,
  };
}

describe('statuses', () => {
  it('succeeded, failed and cancelled are the finished statuses; pending and held are not', () => {
    expect([...FINISHED_STATUSES]).toEqual(['succeeded', 'failed', 'cancelled']);
    expect(DELIVERY_STATUSES.filter(isFinished)).toEqual(['succeeded', 'failed', 'cancelled']);
    expect(isFinished('pending')).toBe(false);
    expect(isFinished('held')).toBe(false);
    expect(isFinished('unknown')).toBe(false);
  });
});

describe("what an endpoint's state makes of a new or a due delivery", () => {
  it('active → pending, paused → held, deleted or gone → cancelled', () => {
    expect(verdictOf(ACTIVE)).toBe('pending');
    expect(verdictOf(PAUSED)).toBe('held');
    expect(verdictOf(DELETED)).toBe('cancelled');
    expect(verdictOf(DELETED_MS)).toBe('cancelled');
    expect(verdictOf(null)).toBe('cancelled');
    expect(verdictOf(undefined)).toBe('cancelled');
  });

  it('as a placement: pending is due at the given time, held waits, cancelled is completed now', () => {
    expect(placeByEndpoint(ACTIVE, LATER, NOW)).toEqual({ status: 'pending', nextAttemptAt: LATER, completedAt: null });
    expect(placeByEndpoint(PAUSED, LATER, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null });
    expect(placeByEndpoint(DELETED, LATER, NOW)).toEqual({ status: 'cancelled', nextAttemptAt: null, completedAt: NOW });
  });

  it('seed (PATCH {"status": "paused"}) and DESIGN: events for a paused endpoint are kept (held), not dropped', () => {
    const endpoint = endpointRecord('org_1', at(0), { status: 'paused', pausedReason: 'manual' });
    expect(placeByEndpoint(endpoint, NOW, NOW).status).toBe('held');
  });

  it('at write, a held delivery is placed again from the endpoint as it is then, as of the event time', () => {
    const held = delivery({ status: 'held', nextAttemptAt: null });
    expect(placeAtWrite(held, PAUSED)).toEqual(held);
    expect(placeAtWrite(held, ACTIVE)).toEqual({ ...held, status: 'pending', nextAttemptAt: held.createdAt });
    expect(placeAtWrite(held, DELETED)).toEqual({ ...held, status: 'cancelled', completedAt: held.createdAt });
    expect(placeAtWrite(held, undefined)).toEqual({ ...held, status: 'cancelled', completedAt: held.createdAt });
  });

  it('at write, a pending delivery is left to the claim, whatever the endpoint', () => {
    const pending = delivery();
    for (const endpoint of [ACTIVE, PAUSED, DELETED]) expect(placeAtWrite(pending, endpoint)).toBe(pending);
  });

  it('a lease given back is due now, or held or cancelled as the endpoint now is', () => {
    expect(releaseLease(ACTIVE, NOW)).toEqual({ status: 'pending', nextAttemptAt: NOW, completedAt: null });
    expect(releaseLease(PAUSED, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null });
    expect(releaseLease(DELETED, NOW)).toEqual({ status: 'cancelled', nextAttemptAt: null, completedAt: NOW });
  });
});

describe("what an attempt's answer makes of a delivery and its endpoint", () => {
  const retryAt = () => LATER;
  const noRetryLeft = () => null;

  it('seed: only 2xx is success, whatever the attempt', () => {
    for (const status of [200, 201, 204, 299]) {
      expect(afterAttempt(status, noRetryLeft)).toEqual({ next: { status: 'succeeded' }, pause: null });
    }
  });

  it('seed: "Failed deliveries (non-2xx responses) are retried" — at the time the retry policy gives', () => {
    for (const status of [null, 199, 301, 400, 404, 429, 500, 503]) {
      expect(afterAttempt(status, retryAt)).toEqual({ next: { status: 'pending', nextAttemptAt: LATER }, pause: null });
    }
  });

  it('seed: "After all retries fail, the webhook is paused" — the delivery fails, the endpoint pauses as failing', () => {
    for (const status of [null, 500, 404]) expect(afterAttempt(status, noRetryLeft)).toEqual({ next: { status: 'failed' }, pause: 'failing' });
  });

  it('410 Gone pauses the endpoint at once (gone) and holds the delivery, retries left or not', () => {
    expect(afterAttempt(410, retryAt)).toEqual({ next: { status: 'held' }, pause: 'gone' });
    expect(afterAttempt(410, noRetryLeft)).toEqual({ next: { status: 'held' }, pause: 'gone' });
  });

  it('asks the retry policy only when a retry is in question', () => {
    let asked = 0;
    const counting = () => {
      asked++;
      return LATER;
    };
    afterAttempt(200, counting);
    afterAttempt(410, counting);
    expect(asked).toBe(0);
    afterAttempt(500, counting);
    expect(asked).toBe(1);
  });
});

describe('settling a claimed delivery when its attempt is recorded', () => {
  const nexts: NextDeliveryState[] = [
    { status: 'succeeded' },
    { status: 'failed' },
    { status: 'cancelled' },
    { status: 'held' },
    { status: 'pending', nextAttemptAt: LATER },
  ];

  it('a finished outcome stands, whatever became of the endpoint meanwhile', () => {
    for (const next of nexts.filter((n) => isFinished(n.status))) {
      expect(dependsOnEndpoint(next)).toBe(false);
      for (const endpoint of [ACTIVE, PAUSED, DELETED, null]) {
        expect(settleAttempt(next, endpoint, NOW)).toEqual({ status: next.status, nextAttemptAt: null, completedAt: NOW });
      }
    }
  });

  it('otherwise the endpoint as it is now decides: deleted → cancelled, paused → held, active → pending', () => {
    const expected: Record<string, Record<'active' | 'paused' | 'deleted', ReturnType<typeof settleAttempt>>> = {
      held: {
        active: { status: 'pending', nextAttemptAt: NOW, completedAt: null },
        paused: { status: 'held', nextAttemptAt: null, completedAt: null },
        deleted: { status: 'cancelled', nextAttemptAt: null, completedAt: NOW },
      },
      pending: {
        active: { status: 'pending', nextAttemptAt: LATER, completedAt: null },
        paused: { status: 'held', nextAttemptAt: null, completedAt: null },
        deleted: { status: 'cancelled', nextAttemptAt: null, completedAt: NOW },
      },
    };
    for (const next of nexts.filter((n) => !isFinished(n.status))) {
      expect(dependsOnEndpoint(next)).toBe(true);
      const cases = expected[next.status]!;
      expect(settleAttempt(next, ACTIVE, NOW)).toEqual(cases.active);
      expect(settleAttempt(next, PAUSED, NOW)).toEqual(cases.paused);
      expect(settleAttempt(next, DELETED, NOW)).toEqual(cases.deleted);
      expect(settleAttempt(next, undefined, NOW)).toEqual(cases.deleted);
    }
  });
});

describe("what a change of its endpoint makes of a delivery", () => {
  const idle = { status: 'pending' as const, nextAttemptAt: at(0), leaseToken: null };
  const underLease = { status: 'pending' as const, nextAttemptAt: LATER, leaseToken: 'lease_1' };
  const leaseRunOut = { status: 'pending' as const, nextAttemptAt: NOW, leaseToken: 'lease_1' };
  const held = { status: 'held' as const, nextAttemptAt: null, leaseToken: null };
  const finished = (status: DeliveryStatus) => ({ status, nextAttemptAt: null, leaseToken: null });

  it('a lease is live while it has not run out', () => {
    expect(underLiveLease(idle, NOW)).toBe(false);
    expect(underLiveLease(underLease, NOW)).toBe(true);
    expect(underLiveLease(leaseRunOut, NOW)).toBe(false);
  });

  it('pausing holds pending deliveries; one under a live lease stays pending for its attempt to settle', () => {
    expect(onEndpointChange('paused', idle, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null });
    expect(onEndpointChange('paused', leaseRunOut, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null });
    expect(onEndpointChange('paused', underLease, NOW)).toBeNull();
    expect(onEndpointChange('paused', held, NOW)).toBeNull();
    for (const status of FINISHED_STATUSES) expect(onEndpointChange('paused', finished(status), NOW)).toBeNull();
  });

  it('DESIGN: "resuming delivers them" — held deliveries become due now, nothing else moves', () => {
    expect(onEndpointChange('resumed', held, NOW)).toEqual({ status: 'pending', nextAttemptAt: NOW, completedAt: null });
    for (const d of [idle, underLease, leaseRunOut, ...FINISHED_STATUSES.map(finished)]) expect(onEndpointChange('resumed', d, NOW)).toBeNull();
  });

  it('deleting cancels held and pending deliveries, except one with an attempt in flight', () => {
    const cancelled = { status: 'cancelled', nextAttemptAt: null, completedAt: NOW };
    expect(onEndpointChange('deleted', idle, NOW)).toEqual(cancelled);
    expect(onEndpointChange('deleted', leaseRunOut, NOW)).toEqual(cancelled);
    expect(onEndpointChange('deleted', held, NOW)).toEqual(cancelled);
    expect(onEndpointChange('deleted', underLease, NOW)).toBeNull();
    for (const status of FINISHED_STATUSES) expect(onEndpointChange('deleted', finished(status), NOW)).toBeNull();
  });
});

describe('a manual retry or a replay', () => {
  it('sends a finished delivery again now, held while the endpoint is paused, and restarts its retry schedule', () => {
    for (const status of FINISHED_STATUSES) {
      expect(requeue({ status, attemptCount: 6 }, ACTIVE, NOW)).toEqual({ status: 'pending', nextAttemptAt: NOW, completedAt: null, requeuedAtAttempt: 6 });
      expect(requeue({ status, attemptCount: 6 }, PAUSED, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null, requeuedAtAttempt: 6 });
    }
  });

  it('a re-sent delivery lands as a due one does: now, or held while the endpoint is paused', () => {
    expect(resendPlacement(ACTIVE, NOW)).toEqual({ status: 'pending', nextAttemptAt: NOW, completedAt: null });
    expect(resendPlacement(PAUSED, NOW)).toEqual({ status: 'held', nextAttemptAt: null, completedAt: null });
  });

  it('a replay re-sends succeeded and failed deliveries by default, a finished status when asked, nothing else', () => {
    expect(replayedStatuses(undefined)).toEqual(['succeeded', 'failed']);
    for (const status of FINISHED_STATUSES) expect(replayedStatuses(status)).toEqual([status]);
    expect(replayedStatuses('pending')).toEqual([]);
    expect(replayedStatuses('held')).toEqual([]);
  });

  it('leaves a pending or held delivery as it is', () => {
    expect(requeue({ status: 'pending', attemptCount: 2 }, ACTIVE, NOW)).toBeNull();
    expect(requeue({ status: 'held', attemptCount: 2 }, PAUSED, NOW)).toBeNull();
  });
});

describe('endpoint patches and pauses', () => {
  const endpoint = endpointRecord('org_1', at(0), { events: ['execution.completed'], filter: { agentId: 'agt_1' } });

  it('seed: PATCH {"events": [...], "status": "paused"} changes those fields and pauses', () => {
    const patch = { events: ['execution.completed', 'execution.failed'], status: 'paused' as const, pausedReason: 'manual' as const };
    const { endpoint: patched, change } = applyPatch(endpoint, patch, NOW);
    expect(change).toBe('paused');
    expect(patched).toEqual({ ...endpoint, events: ['execution.completed', 'execution.failed'], status: 'paused', pausedReason: 'manual', updatedAt: NOW });
    // A copy: neither the stored endpoint nor the patch is shared with the result.
    patch.events.push('tool.error');
    expect(patched.events).toHaveLength(2);
    expect(endpoint.status).toBe('active');
  });

  it('resuming clears the paused reason; a patch without a status change reports none', () => {
    const paused = { ...endpoint, status: 'paused' as const, pausedReason: 'failing' as const };
    expect(applyPatch(paused, { status: 'active' }, NOW)).toEqual({ endpoint: { ...paused, status: 'active', pausedReason: null, updatedAt: NOW }, change: 'resumed' });
    const { endpoint: renamed, change } = applyPatch(paused, { description: 'orders', url: 'https://hooks.example.com/v2', filter: null }, NOW);
    expect(change).toBeNull();
    expect(renamed).toEqual({ ...paused, description: 'orders', url: 'https://hooks.example.com/v2', filter: null, updatedAt: NOW });
  });

  it('seed: "After all retries fail, the webhook is paused" — once: only an active, live endpoint pauses', () => {
    expect(pauseFor(endpoint, 'failing', NOW)).toEqual({ ...endpoint, status: 'paused', pausedReason: 'failing', updatedAt: NOW });
    expect(pauseFor({ ...endpoint, status: 'paused', pausedReason: 'manual' }, 'gone', NOW)).toBeNull();
    expect(pauseFor({ ...endpoint, deletedAt: at(5) }, 'failing', NOW)).toBeNull();
  });
});
