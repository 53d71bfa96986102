import { afterEach, expect, it } from 'vitest';
import type { Attempt, Delivery, Storage } from '../../src/index.js';
import { WebhookService } from '../../src/index.js';
import { type ChaosAnswer, type ChaosReceiver, type ChaosRequest, createChaosReceiver } from './chaos-receiver.js';

/**
 * "Never loses an event" against a receiver that fails in every way receivers fail: thousands of
 * deliveries on an accelerated schedule; each must end `succeeded` or `failed` with every attempt
 * recorded, and the attempts recorded must account exactly for the requests the receiver saw.
 */
const ORG = 'org_chaos';
export const CHAOS_EVENTS = Number(process.env.HOOKRELAY_CHAOS_EVENTS ?? 1000);
const ENDPOINTS = 2;
const SCHEDULE_MS = [10, 20, 40];
/** Short, but long enough that a busy 2-core CI box does not turn most answers into timeouts. */
const TIMEOUT_MS = 1000;
const RETRY_AFTER_CAP_MS = 60;
/** Attempt records keep whole milliseconds (duration rounded, instants floored). */
const ROUNDING_MS = 2;
const FINISH_WITHIN_MS = 45_000;

async function allDeliveries(hooks: WebhookService): Promise<Delivery[]> {
  const out: Delivery[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: Delivery[]; nextCursor: string | null } = await hooks.listDeliveries(ORG, { limit: 100, cursor });
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Whether attempt `a` is what the sender records when the receiver answered `answer`. */
function recordedAs(a: Attempt, answer: ChaosAnswer): boolean {
  // Any answer can come too late on a loaded machine: the sender then records its own timeout.
  if (a.errorKind === 'timeout') return true;
  switch (answer) {
    case 'ok':
    case 'slow':
      return a.statusCode === 200;
    case 'error500':
      return a.statusCode === 500 && a.errorKind === 'http';
    case 'retryAfter429':
      return a.statusCode === 429 && a.errorKind === 'http';
    case 'hang':
      return false;
    case 'reset':
      return a.statusCode === null && a.errorKind === 'reset';
  }
}

/** A failure below HTTP can also happen before the request reached the receiver at all. */
function mayNotHaveArrived(a: Attempt): boolean {
  return a.statusCode === null && (a.errorKind === 'timeout' || a.errorKind === 'reset' || a.errorKind === 'network' || a.errorKind === 'refused');
}

/** Wall-clock slack between the sender's and the receiver's timestamps (same machine, whole ms). */
const CLOCK_SLACK_MS = 5;

/**
 * Accounts for every request the receiver logged for one delivery with exactly one of its
 * recorded attempts: one recorded as that answer and started before the request arrived. An attempt left over must be a failure below HTTP, one that can
 * happen before the request reached the receiver. Order is not assumed: on a loaded machine a
 * timed-out request can be read by the receiver after the next attempt's. Returns how many
 * attempts never arrived, or null when the logs do not match (a request nobody recorded, or a
 * recorded answer the receiver never gave).
 */
export function matchAttempts(attempts: readonly Attempt[], requests: readonly ChaosRequest[]): number | null {
  const used = new Set<number>();
  const fits = (a: Attempt, r: ChaosRequest): boolean => {
    // No upper bound: `startedAt + durationMs` is not the attempt's end (signing runs between them).
    if (r.at < a.startedAt.getTime() - CLOCK_SLACK_MS) return false;
    return recordedAs(a, r.answer);
  };
  const assign = (j: number): boolean => {
    if (j === requests.length) return attempts.every((a, i) => used.has(i) || mayNotHaveArrived(a));
    for (let i = 0; i < attempts.length; i++) {
      if (used.has(i) || !fits(attempts[i]!, requests[j]!)) continue;
      used.add(i);
      if (assign(j + 1)) return true;
      used.delete(i);
    }
    return false;
  };
  return assign(0) ? attempts.length - used.size : null;
}

/** Registers the chaos test for one storage. `open` is called inside the test. */
export function chaosScenario(name: string, open: () => Storage, cleanUp: () => void = () => {}): void {
  let receiver: ChaosReceiver | undefined;
  let hooks: WebhookService | undefined;
  let storage: Storage | undefined;
  afterEach(async () => {
    await hooks?.stop();
    await storage?.close();
    await receiver?.close();
    cleanUp();
  });

  it(`${CHAOS_EVENTS} events × ${ENDPOINTS} endpoints (${name}): each ends succeeded or failed, attempts account exactly for the receiver's log`, async () => {
    const seed = Number(process.env.HOOKRELAY_CHAOS_SEED ?? Date.now() % 2 ** 31);
    receiver = await createChaosReceiver({ seed, slowMs: 30, retryAfter: '1' });
    storage = open();
    hooks = new WebhookService({
      storage,
      eventTypes: ['order.created'],
      delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: TIMEOUT_MS, lease: '10s', pollInterval: '50ms', concurrency: 48, perEndpointConcurrency: 24 },
      retry: { schedule: SCHEDULE_MS, maxRetryAfter: RETRY_AFTER_CAP_MS },
    });
    await hooks.migrate();
    const endpointIds: string[] = [];
    for (let i = 0; i < ENDPOINTS; i++) {
      const { endpoint } = await hooks.create(ORG, { url: `${receiver.origin}/e/${i}`, events: ['order.created'] });
      endpointIds.push(endpoint.id);
    }
    const pathOf = new Map(endpointIds.map((id, i) => [id, `/e/${i}`]));

    // An exhausted delivery pauses its endpoint (the seed's rule). This host resumes at once, as an
    // on-call engineer would after the email; the pause windows are kept to read the timings right.
    const pauses: { endpointId: string; from: number; to: number }[] = [];
    const errors: unknown[] = [];
    const service = hooks;
    service.on('endpointPaused', ({ endpoint }) => {
      const from = Date.now();
      void service.update(ORG, endpoint.id, { status: 'active' }).then(
        () => pauses.push({ endpointId: endpoint.id, from, to: Date.now() }),
        (error: unknown) => errors.push(error),
      );
    });
    service.on('error', ({ error, during }) => {
      errors.push(new Error(`${during}: ${String(error)}`));
    });
    const leasesLost: unknown[] = [];
    service.on('leaseLost', (info) => {
      leasesLost.push(info);
    });
    let finished = 0;
    const countFinished = (): void => {
      finished++;
    };
    service.on('success', countFinished);
    service.on('exhausted', countFinished);

    const started = Date.now();
    hooks.start();
    for (let n = 0; n < CHAOS_EVENTS; n++) await hooks.emit(ORG, { type: 'order.created', data: { n } });
    const total = CHAOS_EVENTS * ENDPOINTS;
    const deadline = Date.now() + FINISH_WITHIN_MS;
    while (finished < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const seconds = (Date.now() - started) / 1000;
    await hooks.stop();
    expect(errors, `seed ${seed}`).toEqual([]);

    const deliveries = await allDeliveries(hooks);
    expect(deliveries).toHaveLength(total);
    const byStatus: Record<string, number> = {};
    for (const d of deliveries) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
    // None lost, none stuck: every delivery reached an end state, and each was reported once.
    expect((byStatus.succeeded ?? 0) + (byStatus.failed ?? 0), `seed ${seed}, after ${seconds}s: ${JSON.stringify(byStatus)}`).toBe(total);
    expect(finished).toBe(total);

    const seen = receiver.byKey();
    let attemptsRecorded = 0;
    let neverArrived = 0;
    let timedGaps = 0;
    for (const summary of deliveries) {
      const delivery = await hooks.getDelivery(ORG, summary.id);
      const attempts: Attempt[] = delivery.attempts;
      const arrived = seen.get(`${delivery.eventId} ${pathOf.get(delivery.endpointId)}`) ?? [];
      attemptsRecorded += attempts.length;
      expect(attempts.map((a) => a.attemptNumber), delivery.id).toEqual(attempts.map((_, i) => i + 1));
      expect(delivery.attemptCount).toBe(attempts.length);
      const unmatched = matchAttempts(attempts, arrived);
      const story = () =>
        `${delivery.id}: attempts ${JSON.stringify(attempts.map((a) => [a.statusCode ?? a.errorKind, a.startedAt.getTime() - started, a.durationMs]))} ` +
        `vs receiver ${JSON.stringify(arrived.map((r) => [r.answer, r.at - started]))} (seed ${seed}); pauses ${JSON.stringify(pauses.filter((p) => p.endpointId === delivery.endpointId).map((p) => [p.from - started, p.to - started]))}; leases lost ${JSON.stringify(leasesLost)}`;
      expect(unmatched, story()).not.toBeNull();
      neverArrived += unmatched!;
      const last = attempts[attempts.length - 1]!;
      if (delivery.status === 'succeeded') {
        expect(last.statusCode).toBe(200);
        expect(attempts.length).toBeLessThanOrEqual(SCHEDULE_MS.length + 1);
      } else {
        // Failed only after the whole schedule, every attempt a failure recorded with its cause.
        expect(attempts).toHaveLength(SCHEDULE_MS.length + 1);
        for (const a of attempts) expect(a.errorKind, delivery.id).not.toBeNull();
      }
      for (let i = 0; i + 1 < attempts.length; i++) {
        const a = attempts[i]!;
        const next = attempts[i + 1]!;
        // The retry waited its turn: the schedule's delay, or the capped Retry-After of a 429 when
        // that is longer (Retry-After only postpones), unless a pause/resume of the endpoint in
        // between legitimately made it due at once.
        const endedAt = a.startedAt.getTime() + a.durationMs;
        const interrupted = pauses.some((p) => p.endpointId === delivery.endpointId && p.from <= next.startedAt.getTime() && p.to >= endedAt - 50);
        if (interrupted) continue;
        const expectedGap = a.statusCode === 429 ? Math.max(RETRY_AFTER_CAP_MS, SCHEDULE_MS[i]!) : SCHEDULE_MS[i]!;
        expect(next.startedAt.getTime() - endedAt, `${delivery.id} attempt ${i + 2}`).toBeGreaterThanOrEqual(expectedGap - ROUNDING_MS);
        timedGaps++;
      }
    }
    expect(attemptsRecorded - neverArrived).toBe(receiver.requests.length);
    // The run exercised every failure mode, and retries were timed against the schedule.
    for (const count of Object.values(receiver.counts)) expect(count).toBeGreaterThan(0);
    expect(timedGaps).toBeGreaterThan(0);
    console.info(
      `[chaos ${name}] seed ${seed}: ${total} deliveries in ${seconds.toFixed(1)}s, ${attemptsRecorded} attempts (${neverArrived} never reached the receiver), ` +
        `answers ${JSON.stringify(receiver.counts)}, ${byStatus.succeeded ?? 0} succeeded, ${byStatus.failed ?? 0} failed, ${pauses.length} pause/resume, ${timedGaps} retry gaps timed`,
    );
  }, 60_000);
}
