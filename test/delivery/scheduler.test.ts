import { afterEach, describe, expect, it } from 'vitest';
import { WebhookService, memoryStorage, type Storage } from '../../src/index.js';
import { createTestReceiver, manualClock } from '../../src/testing/index.js';
import { EVENT_TYPES, type Harness, harness, sleep } from './helpers.js';

let h: Harness | undefined;
const extra: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const x of extra.splice(0)) await x.close();
});

describe('the delivery loop', () => {
  it('an idle started scheduler delivers an emit within milliseconds (wake-up, not polling)', async () => {
    h = await harness({ clock: undefined as never, delivery: { pollInterval: '1m' } });
    await h.endpoint();
    h.hooks.start();
    await sleep(20); // let the loop go idle
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
      await h.receiver.waitFor(i + 1, 2000);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[2]).toBeLessThan(100);
  });

  it('a started loop sleeps exactly until the next retry is due, not until the next poll', async () => {
    h = await harness({ clock: undefined as never, retry: { schedule: ['300ms'] }, delivery: { pollInterval: '1m' } });
    await h.endpoint();
    h.receiver.failNext(1, 500);
    h.hooks.start();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    const [first, second] = await h.receiver.waitFor(2, 3000);
    const gap = second!.receivedAt - first!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(300);
    expect(gap).toBeLessThan(600);
  });

  it('respects the global concurrency limit', async () => {
    const receiver = await createTestReceiver();
    extra.push(receiver);
    receiver.setDefault({ kind: 'slow', ms: 60 });
    h = await harness({ clock: undefined as never, delivery: { concurrency: 5, perEndpointConcurrency: 2, batchSize: 7 } });
    for (let e = 0; e < 4; e++) await h.hooks.create('org_1', { url: `${receiver.url}/${e}`, events: ['execution.completed'] });
    for (let i = 0; i < 10; i++) await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    h.hooks.start();
    await receiver.waitFor(40, 10_000);
    expect(receiver.maxInFlight).toBe(5);
    expect(new Set(receiver.requests.map((r) => r.path)).size).toBe(4);
  });

  it('respects the per-endpoint concurrency limit', async () => {
    const receivers = await Promise.all([0, 1, 2].map(() => createTestReceiver()));
    extra.push(...receivers);
    h = await harness({ clock: undefined as never, delivery: { concurrency: 100, perEndpointConcurrency: 3 } });
    for (const receiver of receivers) {
      receiver.setDefault({ kind: 'slow', ms: 50 });
      await h.hooks.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    }
    for (let i = 0; i < 12; i++) await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    h.hooks.start();
    for (const receiver of receivers) await receiver.waitFor(12, 10_000);
    expect(receivers.map((r) => r.maxInFlight)).toEqual([3, 3, 3]);
  });

  it('one slow endpoint with a backlog does not starve the others', async () => {
    const slow = await createTestReceiver();
    extra.push(slow);
    slow.setDefault({ kind: 'slow', ms: 300 });
    h = await harness({ clock: undefined as never, delivery: { concurrency: 8, perEndpointConcurrency: 2, batchSize: 50 } });
    await h.hooks.create('org_1', { url: slow.url, events: ['execution.failed'] });
    await h.endpoint({ events: ['execution.completed'] });
    for (let i = 0; i < 60; i++) await h.hooks.emit('org_1', { type: 'execution.failed', data: { i } });
    h.hooks.start();
    await slow.waitFor(2, 2000);
    const t0 = performance.now();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.receiver.waitFor(1, 2000);
    expect(performance.now() - t0).toBeLessThan(250);
  });

  it('stop() mid-flight waits for attempts, records them, gives back the queue: nothing is lost', async () => {
    const clock = manualClock();
    const storage = memoryStorage();
    const receiver = await createTestReceiver();
    extra.push(receiver);
    receiver.setDefault({ kind: 'slow', ms: 150 });
    const hooks = new WebhookService({ storage, eventTypes: [...EVENT_TYPES], clock, delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: 3, perEndpointConcurrency: 3 } });
    await hooks.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    for (let i = 0; i < 10; i++) await hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    hooks.start();
    await receiver.waitFor(3, 2000);
    await hooks.stop();
    const afterStop = (await hooks.listDeliveries('org_1', { limit: 100 })).data;
    const succeeded = afterStop.filter((d) => d.status === 'succeeded');
    expect(succeeded.length).toBe(3);
    expect(afterStop.filter((d) => d.status === 'pending')).toHaveLength(7);
    // Given back at once: due now, not after the lease.
    expect(afterStop.filter((d) => d.status === 'pending').every((d) => d.nextAttemptAt!.getTime() <= clock.now())).toBe(true);
    expect(receiver.requests).toHaveLength(3);

    receiver.setDefault({ kind: 'status', status: 200 });
    await hooks.deliverDue();
    const all = (await hooks.listDeliveries('org_1', { limit: 100 })).data;
    expect(all.every((d) => d.status === 'succeeded' && d.attemptCount === 1)).toBe(true);
    expect(new Set(receiver.requests.map((r) => (r.json as { id: string }).id)).size).toBe(10);
    await hooks.stop();
  });

  it('a lease lost mid-attempt cannot overwrite the newer state', async () => {
    const clock = manualClock();
    const storage = memoryStorage();
    const receiver = await createTestReceiver();
    extra.push(receiver);
    const options = { storage, eventTypes: [...EVENT_TYPES], clock, delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: '5s', lease: '10s' } };
    const workerA = new WebhookService(options);
    const workerB = new WebhookService(options);
    const lost: string[] = [];
    workerA.on('leaseLost', (e) => void lost.push(e.deliveryId));
    await workerA.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    const { deliveries } = await workerA.emit('org_1', { type: 'execution.completed', data: {} });

    receiver.respondNext({ kind: 'hang' });
    const slowA = workerA.deliverDue(); // A claims and hangs
    await receiver.waitFor(1);
    clock.advance('11s'); // A's lease runs out
    await workerB.deliverDue(); // B claims it again and succeeds
    expect((await workerB.getDelivery('org_1', deliveries[0]!.id)).status).toBe('succeeded');

    receiver.releaseHung(500); // A's attempt finally ends, as a failure
    await slowA;
    const d = await workerA.getDelivery('org_1', deliveries[0]!.id);
    expect([d.status, d.attemptCount, d.attempts.length, d.attempts[0]!.statusCode]).toEqual(['succeeded', 1, 1, 200]);
    expect(lost).toEqual([deliveries[0]!.id]);
    await workerA.stop();
    await workerB.stop();
  });

  it('storage notifications (subscribe) wake an idle loop, and unsubscribe on stop', async () => {
    const base = memoryStorage();
    let listener: (() => void) | null = null;
    let unsubscribed = false;
    const storage: Storage = Object.assign(Object.create(base) as Storage, {
      subscribe(fn: () => void) {
        listener = fn;
        return () => void (unsubscribed = true);
      },
    });
    const receiver = await createTestReceiver();
    extra.push(receiver);
    const writer = new WebhookService({ storage: base, eventTypes: [...EVENT_TYPES], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    const worker = new WebhookService({ storage, eventTypes: [...EVENT_TYPES], delivery: { allowHttp: true, allowPrivateNetworks: true, pollInterval: '1m' } });
    await writer.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    worker.start();
    await sleep(30);
    expect(listener).not.toBeNull();
    await writer.emit('org_1', { type: 'execution.completed', data: {} }); // "another process": the worker is not told locally
    await sleep(50);
    expect(receiver.requests).toHaveLength(0);
    listener!();
    await receiver.waitFor(1, 1000);
    await worker.stop();
    expect(unsubscribed).toBe(true);
  });

  it('polls as a fallback when nothing wakes it', async () => {
    const storage = memoryStorage();
    const receiver = await createTestReceiver();
    extra.push(receiver);
    const writer = new WebhookService({ storage, eventTypes: [...EVENT_TYPES], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    const worker = new WebhookService({ storage, eventTypes: [...EVENT_TYPES], delivery: { allowHttp: true, allowPrivateNetworks: true, pollInterval: '100ms' } });
    await writer.create('org_1', { url: receiver.url, events: ['execution.completed'] });
    worker.start();
    await sleep(20);
    await writer.emit('org_1', { type: 'execution.completed', data: {} });
    await receiver.waitFor(1, 1000);
    await worker.stop();
  });

  it('a storage outage is reported as an error event and the loop recovers', async () => {
    const base = memoryStorage();
    let failClaims = 2;
    const storage: Storage = Object.assign(Object.create(base) as Storage, {
      async claimDueDeliveries(req: Parameters<Storage['claimDueDeliveries']>[0]) {
        if (failClaims-- > 0) throw new Error('connection refused');
        return base.claimDueDeliveries(req);
      },
    });
    h = await harness({ storage, clock: undefined as never, delivery: { pollInterval: '50ms' } });
    const errors: string[] = [];
    h.hooks.on('error', (e) => void errors.push(e.during));
    await h.endpoint();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    h.hooks.start();
    await h.receiver.waitFor(1, 2000);
    expect(errors).toEqual(['claiming deliveries', 'claiming deliveries']);
  });

  it('retention prunes finished deliveries at start and then every interval; prune() does it on demand', async () => {
    h = await harness({ retention: { maxAge: '1s', interval: '1s' } });
    await h.endpoint();
    const gone = async (id: string) => h!.hooks.getDelivery('org_1', id).then(() => false, (err: { code?: string }) => err.code === 'NOT_FOUND');
    const first = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    h.clock.advance('2s');
    h.hooks.start(); // prunes once at start
    await sleep(50);
    expect(await gone(first.deliveries[0]!.id)).toBe(true);

    const second = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.receiver.waitFor(2);
    await sleep(50);
    expect(await gone(second.deliveries[0]!.id)).toBe(false);
    h.clock.advance('2s');
    await sleep(1100); // the next interval
    expect(await gone(second.deliveries[0]!.id)).toBe(true);

    const third = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.receiver.waitFor(3);
    await sleep(20);
    expect(await h.hooks.prune({ olderThan: new Date(h.clock.now() + 1) })).toEqual({ deliveries: 1, attempts: 1, events: 1 });
    expect(await gone(third.deliveries[0]!.id)).toBe(true);
    expect(await h.hooks.prune({ olderThan: '1d' })).toEqual({ deliveries: 0, attempts: 0, events: 0 });
    await expect(h.hooks.prune({ olderThan: 'whenever' as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('pausing an endpoint stops what this process had already claimed for it; resuming sends it', async () => {
    h = await harness({ clock: undefined as never, delivery: { perEndpointConcurrency: 1 } });
    const endpointId = await h.endpoint();
    h.receiver.setDefault({ kind: 'slow', ms: 100 });
    for (let i = 0; i < 5; i++) await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    h.hooks.start();
    await h.receiver.waitFor(1);
    await h.hooks.update('org_1', endpointId, { status: 'paused' });
    await sleep(300);
    expect(h.receiver.requests).toHaveLength(1);
    const held = await h.hooks.listDeliveries('org_1', { status: 'held' });
    expect(held.data).toHaveLength(4);
    await h.hooks.update('org_1', endpointId, { status: 'active' });
    await h.receiver.waitFor(5, 3000);
  });

  it('a URL change sends deliveries already claimed to the new URL', async () => {
    h = await harness({ clock: undefined as never, delivery: { perEndpointConcurrency: 1 } });
    const moved = await createTestReceiver();
    extra.push(moved);
    const endpointId = await h.endpoint();
    h.receiver.setDefault({ kind: 'slow', ms: 150 });
    for (let i = 0; i < 4; i++) await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    h.hooks.start();
    await h.receiver.waitFor(1);
    await h.hooks.update('org_1', endpointId, { url: moved.url });
    await moved.waitFor(3, 3000);
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('a lease only just longer than the timeout still delivers', async () => {
    h = await harness({ delivery: { timeout: '2s', lease: '2100ms' } });
    await h.endpoint();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('a queued claim that can no longer finish inside its lease is handed back and sent at once, not left leased until the lease ends', async () => {
    h = await harness({ delivery: { timeout: '2s', lease: '10s', perEndpointConcurrency: 1 } });
    await h.endpoint();
    h.receiver.respondNext({ kind: 'slow', ms: 300 });
    const { deliveries: [first] } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 1 } });
    const { deliveries: [second] } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 2 } });
    // Both are claimed; the second waits behind the first (one at a time per endpoint) while
    // the clock passes the point where an attempt could still end inside the lease.
    const running = h.hooks.deliverDue();
    await h.receiver.waitFor(1, 2000);
    h.clock.advance('9s');
    await running;
    await h.hooks.deliverDue();
    expect(h.receiver.requests.map((r) => (r.json as { data: { n: number } }).data.n)).toEqual([1, 2]);
    expect(await h.hooks.getDelivery('org_1', first!.id)).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    expect(await h.hooks.getDelivery('org_1', second!.id)).toMatchObject({ status: 'succeeded', attemptCount: 1 });
  });

  it('thousands of claims going stale at once are all handed back and sent once each (no stack overflow)', async () => {
    const claimed = 5000;
    h = await harness({ delivery: { timeout: '2s', lease: '10s', perEndpointConcurrency: 1, batchSize: claimed } });
    await h.endpoint();
    h.receiver.respondNext({ kind: 'slow', ms: 300 });
    const ids: string[] = [];
    for (let n = 0; n < claimed; n++) {
      const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n } });
      ids.push(deliveries[0]!.id);
    }
    // One batch claims them all; the first is sent while the rest queue behind it, and the clock
    // passes the point where any of them could still finish inside the lease. Handing them back
    // used to recurse once per stale claim, and a stack overflow there ended the process.
    const running = h.hooks.deliverDue();
    await h.receiver.waitFor(1, 2000);
    h.clock.advance('9s');
    await running;
    const sent = h.receiver.requests.map((r) => (r.json as { data: { n: number } }).data.n);
    expect(sent).toHaveLength(claimed);
    expect(new Set(sent).size).toBe(claimed);
    expect(await h.hooks.getDelivery('org_1', ids[claimed - 1]!)).toMatchObject({ status: 'succeeded', attemptCount: 1 });
  }, 60_000);

  it('a slow onEndpointPaused (the host mailing its customer) holds no delivery slot; stop() waits for it', async () => {
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const notified: string[] = [];
    h = await harness({
      retry: { schedule: [] },
      delivery: { concurrency: 1 },
      onEndpointPaused: async ({ endpoint }) => {
        await gate;
        notified.push(endpoint.id);
      },
    });
    const failing = await h.endpoint({ url: `${h.receiver.url}/failing` });
    await h.endpoint({ url: `${h.receiver.url}/healthy` });
    h.receiver.failNext(1, 500);
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    h.hooks.start();
    // Both endpoints are served with the one slot while the pause notification is still pending.
    await h.receiver.waitFor(2, 3000);
    expect((await h.hooks.get('org_1', failing)).pausedReason).toBe('failing');
    expect(notified).toEqual([]);
    let stopped = false;
    const stopping = h.hooks.stop().then(() => (stopped = true));
    await sleep(50);
    expect(stopped).toBe(false);
    openGate();
    await stopping;
    expect(notified).toEqual([failing]);
  });

  it('start() and stop() are idempotent; deliverDue works after stop', async () => {
    h = await harness();
    await h.endpoint();
    h.hooks.start();
    h.hooks.start();
    await Promise.all([h.hooks.stop(), h.hooks.stop()]);
    await h.hooks.stop();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
  });
});

describe('observability', () => {
  it('emits attempt, success, failure, exhausted and endpointPaused with the delivery state', async () => {
    h = await harness({ retry: { schedule: ['1s'] } });
    const seen: string[] = [];
    for (const name of ['attempt', 'success', 'failure', 'exhausted', 'endpointPaused'] as const) {
      h.hooks.on(name, (e) => void seen.push(`${name}:${'delivery' in e ? `${e.delivery.status}/${e.delivery.attemptCount}` : e.reason}`));
    }
    await h.endpoint();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(seen).toEqual(['attempt:succeeded/1', 'success:succeeded/1']);
    seen.length = 0;
    h.receiver.setDefault({ kind: 'status', status: 502 });
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    h.clock.advance('1s');
    await h.hooks.deliverDue();
    expect(seen).toEqual(['attempt:pending/1', 'failure:pending/1', 'attempt:failed/2', 'failure:failed/2', 'exhausted:failed/2', 'endpointPaused:failing']);
  });

  it('a throwing listener does not disturb delivery; off() unsubscribes', async () => {
    h = await harness();
    const errors: string[] = [];
    h.hooks.on('error', (e) => void errors.push(e.during));
    const thrower = () => {
      throw new Error('listener bug');
    };
    h.hooks.on('success', thrower);
    await h.endpoint();
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(errors).toEqual(['success listener']);
    h.hooks.off('success', thrower);
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(errors).toHaveLength(1);
    expect(h.receiver.requests).toHaveLength(2);
  });
});
