import { afterEach, describe, expect, it } from 'vitest';
import { memoryStorage, type EndpointPausedInfo } from '../../src/index.js';
import { type Harness, harness } from './helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

const SCHEDULE_MS = [1000, 5000, 30_000, 120_000, 600_000];

describe('retry schedule (seed: "retried up to 5 times with exponential backoff: 1s, 5s, 30s, 2min, 10min")', () => {
  it('retries exactly on schedule: nothing early, nothing late, and the counter advances', async () => {
    const paused: EndpointPausedInfo[] = [];
    h = await harness({ onEndpointPaused: (info) => void paused.push(info) });
    const endpointId = await h.endpoint();
    h.receiver.setDefault({ kind: 'status', status: 500, body: 'boom' });
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 1 } });
    const deliveryId = deliveries[0]!.id;

    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
    for (const [i, delay] of SCHEDULE_MS.entries()) {
      h.clock.advance(delay - 1);
      await h.hooks.deliverDue();
      expect(h.receiver.requests, `retry ${i + 1} must not go 1 ms early`).toHaveLength(i + 1);
      h.clock.advance(1);
      await h.hooks.deliverDue();
      expect(h.receiver.requests, `retry ${i + 1} must go at +${delay} ms`).toHaveLength(i + 2);
      const d = await h.hooks.getDelivery('org_1', deliveryId);
      expect(d.attemptCount).toBe(i + 2);
    }

    const final = await h.hooks.getDelivery('org_1', deliveryId);
    expect(final.status).toBe('failed');
    expect(final.nextAttemptAt).toBeNull();
    expect(final.attempts.map((a) => a.attemptNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(final.attempts.every((a) => a.statusCode === 500 && a.errorKind === 'http' && a.responseExcerpt === 'boom')).toBe(true);
    // Gaps between attempts are exactly the schedule.
    const starts = final.attempts.map((a) => a.startedAt.getTime());
    expect(starts.slice(1).map((t, i) => t - starts[i]!)).toEqual(SCHEDULE_MS);

    // Seed: "After all retries fail, the webhook is paused and you receive an email notification."
    const endpoint = await h.hooks.get('org_1', endpointId);
    expect([endpoint.status, endpoint.pausedReason]).toEqual(['paused', 'failing']);
    expect(paused).toHaveLength(1);
    expect(paused[0]!.endpoint.id).toBe(endpointId);
    expect(paused[0]!.reason).toBe('failing');

    h.clock.advance('1h');
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(6);
  });

  it('a custom schedule in mixed units is followed exactly', async () => {
    h = await harness({ retry: { schedule: [200, '1s', '2m'] } });
    await h.endpoint();
    h.receiver.failNext(3, 503);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    for (const delay of [200, 1000, 120_000]) {
      h.clock.advance(delay);
      await h.hooks.deliverDue();
    }
    const d = await h.hooks.getDelivery('org_1', deliveries[0]!.id);
    expect(d.status).toBe('succeeded');
    expect(d.attempts.map((a) => a.statusCode)).toEqual([503, 503, 503, 200]);
  });

  it('honours Retry-After on 429 and 503', async () => {
    h = await harness();
    await h.endpoint();
    h.receiver.retryAfterNext(90, 429);
    h.receiver.retryAfterNext(new Date(h.clock.now() + 90_000 + 45_000).toUTCString(), 503);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    h.clock.advance(89_999);
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
    h.clock.advance(1);
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(2);
    const afterSecond = await h.hooks.getDelivery('org_1', deliveries[0]!.id);
    expect(afterSecond.nextAttemptAt?.getTime()).toBe(h.clock.now() + 45_000);
    h.clock.advance(45_000);
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).status).toBe('succeeded');
  });

  it('caps Retry-After at retry.maxRetryAfter', async () => {
    h = await harness({ retry: { maxRetryAfter: '10s' } });
    await h.endpoint();
    h.receiver.retryAfterNext(86_400, 503);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).nextAttemptAt?.getTime()).toBe(h.clock.now() + 10_000);
  });

  it('410 Gone pauses the endpoint at once (reason "gone") and holds the delivery', async () => {
    const paused: EndpointPausedInfo[] = [];
    h = await harness({ onEndpointPaused: (info) => void paused.push(info) });
    const endpointId = await h.endpoint();
    h.receiver.failNext(1, 410);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    const endpoint = await h.hooks.get('org_1', endpointId);
    expect([endpoint.status, endpoint.pausedReason]).toEqual(['paused', 'gone']);
    expect(paused.map((p) => p.reason)).toEqual(['gone']);
    const d = await h.hooks.getDelivery('org_1', deliveries[0]!.id);
    expect([d.status, d.attemptCount, d.lastStatusCode]).toEqual(['held', 1, 410]);

    await h.hooks.update('org_1', endpointId, { status: 'active' });
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).status).toBe('succeeded');
  });

  it('exhaustion of several deliveries at once pauses the endpoint and notifies exactly once', async () => {
    let calls = 0;
    h = await harness({ retry: { schedule: [] }, onEndpointPaused: () => void calls++ });
    await h.endpoint();
    h.receiver.setDefault({ kind: 'status', status: 500 });
    for (let i = 0; i < 5; i++) await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
    await h.hooks.deliverDue();
    expect(calls).toBe(1);
  });

  it('the exhausting attempt and the pause are one storage step: nothing can fall between them', async () => {
    // A storage whose separate pauseEndpoint always fails stands for a crash right after the
    // attempt was recorded: the pause must not depend on that second call.
    const inner = memoryStorage();
    const storage = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'pauseEndpoint') return () => Promise.reject(new Error('process died here'));
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const paused: EndpointPausedInfo[] = [];
    h = await harness({ storage, retry: { schedule: [] }, onEndpointPaused: (info) => void paused.push(info) });
    const endpointId = await h.endpoint();
    h.receiver.failNext(1, 500);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).status).toBe('failed');
    expect((await h.hooks.get('org_1', endpointId)).pausedReason).toBe('failing');
    expect(paused.map((p) => [p.endpoint.id, p.reason])).toEqual([[endpointId, 'failing']]);
  });

  it('a storage without the combined step is driven through completeAttempt then pauseEndpoint', async () => {
    const inner = memoryStorage();
    const storage = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'completeAttemptAndPause') return undefined;
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    let calls = 0;
    h = await harness({ storage, retry: { schedule: [] }, onEndpointPaused: () => void calls++ });
    const endpointId = await h.endpoint();
    h.receiver.failNext(1, 410);
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect((await h.hooks.get('org_1', endpointId)).pausedReason).toBe('gone');
    expect(calls).toBe(1);
  });

  it('a throwing onEndpointPaused is reported, not fatal', async () => {
    const errors: string[] = [];
    h = await harness({ retry: { schedule: [] }, onEndpointPaused: () => { throw new Error('mailer down'); } });
    h.hooks.on('error', (e) => void errors.push(e.during));
    await h.endpoint();
    h.receiver.failNext(1, 500);
    await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect(errors).toEqual(['onEndpointPaused']);
  });
});

describe('hold and resume (seed: "Reactivate paused webhooks from the dashboard or via the API")', () => {
  it('events emitted while paused are held, not lost, and resuming delivers them', async () => {
    h = await harness();
    const endpointId = await h.endpoint();
    await h.hooks.update('org_1', endpointId, { status: 'paused' });
    for (let i = 0; i < 3; i++) {
      const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
      expect(deliveries.map((d) => d.status)).toEqual(['held']);
    }
    h.clock.advance('1d');
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(0);

    await h.hooks.update('org_1', endpointId, { status: 'active' });
    await h.hooks.deliverDue();
    expect(h.receiver.requests.map((r) => (r.json as { data: { i: number } }).data.i).sort()).toEqual([0, 1, 2]);
  });

  it('after an exhaustion pause, the endpoint\'s other pending deliveries are held and resume with it', async () => {
    h = await harness({ retry: { schedule: ['1s'] } });
    const endpointId = await h.endpoint();
    h.receiver.setDefault({ kind: 'status', status: 500 });
    const first = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 1 } });
    await h.hooks.deliverDue(); // first: attempt 1 fails, due again at +1000
    h.clock.advance(500);
    const second = await h.hooks.emit('org_1', { type: 'execution.completed', data: { n: 2 } });
    await h.hooks.deliverDue(); // second: attempt 1 fails, due again at +1500
    h.clock.advance(500);
    await h.hooks.deliverDue(); // first: attempt 2 fails, exhausted
    expect((await h.hooks.get('org_1', endpointId)).status).toBe('paused');
    expect((await h.hooks.getDelivery('org_1', first.deliveries[0]!.id)).status).toBe('failed');
    const held = await h.hooks.getDelivery('org_1', second.deliveries[0]!.id);
    expect([held.status, held.nextAttemptAt, held.attemptCount]).toEqual(['held', null, 1]);
    h.clock.advance('1h');
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(3);

    h.receiver.setDefault({ kind: 'status', status: 200 });
    await h.hooks.update('org_1', endpointId, { status: 'active' });
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', second.deliveries[0]!.id)).status).toBe('succeeded');
    expect(h.receiver.requests).toHaveLength(4);
  });

  it('deleting an endpoint cancels what it had pending', async () => {
    h = await harness();
    const endpointId = await h.endpoint();
    h.receiver.failNext(1, 500);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    await h.hooks.delete('org_1', endpointId);
    h.clock.advance('1m');
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(1);
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).status).toBe('cancelled');
  });
});
