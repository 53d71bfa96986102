import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from './helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('listDeliveries', () => {
  it('pages newest first with a cursor and filters by endpoint, event, status and time', async () => {
    h = await harness();
    const a = await h.endpoint();
    const b = await h.endpoint();
    const t0 = h.clock.now();
    const events: string[] = [];
    for (let i = 0; i < 5; i++) {
      events.push((await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } })).event.id);
      h.clock.advance('1m');
    }
    const page1 = await h.hooks.listDeliveries('org_1', { limit: 4 });
    expect(page1.data).toHaveLength(4);
    expect(page1.nextCursor).toBe(page1.data[3]!.id);
    const rest = [];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page = await h.hooks.listDeliveries('org_1', { limit: 4, cursor });
      rest.push(...page.data);
      cursor = page.nextCursor;
    }
    const ids = [...page1.data, ...rest].map((d) => d.id);
    expect(ids).toHaveLength(10);
    expect([...ids].sort().reverse()).toEqual(ids);

    expect((await h.hooks.listDeliveries('org_1', { endpointId: a, limit: 100 })).data.every((d) => d.endpointId === a)).toBe(true);
    expect((await h.hooks.listDeliveries('org_1', { eventId: events[2] })).data.map((d) => d.endpointId).sort()).toEqual([a, b].sort());
    const window = await h.hooks.listDeliveries('org_1', { since: new Date(t0 + 60_000), until: new Date(t0 + 180_000).toISOString() });
    expect(window.data).toHaveLength(4);

    h.receiver.failNext(1, 500);
    await h.hooks.deliverDue();
    expect((await h.hooks.listDeliveries('org_1', { status: 'pending' })).data).toHaveLength(1);
    expect((await h.hooks.listDeliveries('org_1', { status: 'succeeded', limit: 100 })).data).toHaveLength(9);
  });

  it('sees only its own org', async () => {
    h = await harness();
    await h.endpoint({ orgId: 'org_2' });
    await h.hooks.emit('org_2', { type: 'execution.completed', data: {} });
    expect((await h.hooks.listDeliveries('org_1')).data).toEqual([]);
    const [other] = (await h.hooks.listDeliveries('org_2')).data;
    await expect(h.hooks.getDelivery('org_1', other!.id)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    await expect(h.hooks.retryDelivery('org_1', other!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rejects bad filters with details keyed by field', async () => {
    h = await harness();
    const cases: [object, string][] = [
      [{ endpointId: 'nope' }, 'endpointId'],
      [{ eventId: 'dlv_01ARZ3NDEKTSV4RRFFQ69G5FAV' }, 'eventId'],
      [{ status: 'done' }, 'status'],
      [{ since: 'yesterday' }, 'since'],
      [{ since: new Date(2000), until: new Date(1000) }, 'until'],
      [{ limit: 0 }, 'limit'],
      [{ limit: 101 }, 'limit'],
      [{ cursor: 'wh_01ARZ3NDEKTSV4RRFFQ69G5FAV' }, 'cursor'],
      [{ color: 'red' }, 'color'],
    ];
    for (const [query, field] of cases) {
      await expect(h.hooks.listDeliveries('org_1', query as never), field).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { [field]: expect.any(String) } });
    }
  });
});

describe('getDelivery', () => {
  it('returns the attempt log oldest first: number, start, duration, status or error kind, excerpt', async () => {
    h = await harness();
    await h.endpoint();
    h.receiver.failNext(1, 503, { body: 'try later' });
    h.receiver.respondNext({ kind: 'reset' });
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    h.clock.advance('1s');
    await h.hooks.deliverDue();
    h.clock.advance('5s');
    await h.hooks.deliverDue();
    const d = await h.hooks.getDelivery('org_1', deliveries[0]!.id);
    expect(d.attempts.map((a) => [a.attemptNumber, a.statusCode, a.errorKind, a.responseExcerpt])).toEqual([
      [1, 503, 'http', 'try later'],
      [2, null, 'reset', null],
      [3, 200, null, null],
    ]);
    expect(d.attempts.every((a) => a.id.startsWith('att_') && a.deliveryId === d.id && typeof a.durationMs === 'number')).toBe(true);
    expect(d.attempts[1]!.startedAt.getTime() - d.attempts[0]!.startedAt.getTime()).toBe(1000);
    expect(d).toMatchObject({ status: 'succeeded', attemptCount: 3, lastStatusCode: 200, lastError: null });
    await expect(h.hooks.getDelivery('org_1', 'dlv_garbage')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('retryDelivery and replay', () => {
  it('retryDelivery sends a failed delivery again at once; a pending one is left alone', async () => {
    h = await harness({ retry: { schedule: [] } });
    const endpointId = await h.endpoint();
    h.receiver.failNext(1, 500);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', deliveries[0]!.id)).status).toBe('failed');
    await h.hooks.update('org_1', endpointId, { status: 'active' });

    const retried = await h.hooks.retryDelivery('org_1', deliveries[0]!.id);
    expect(retried.status).toBe('pending');
    await h.hooks.deliverDue();
    const d = await h.hooks.getDelivery('org_1', deliveries[0]!.id);
    expect([d.status, d.attemptCount]).toEqual(['succeeded', 2]);

    const again = await h.hooks.retryDelivery('org_1', deliveries[0]!.id);
    expect(again.status).toBe('pending');
    expect((await h.hooks.retryDelivery('org_1', deliveries[0]!.id)).status).toBe('pending');
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(3);
  });

  it('a manual retry or replay restarts the retry schedule: its first failure is retried after 1s, the endpoint stays active', async () => {
    // The seed: "If all retries fail, the webhook is automatically paused". A re-sent delivery
    // gets the whole schedule again before that, not one attempt.
    const paused: string[] = [];
    h = await harness({ retry: { schedule: ['1s', '5s'] }, onEndpointPaused: ({ reason }) => void paused.push(reason) });
    const endpointId = await h.endpoint();
    h.receiver.failNext(3, 500);
    const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
    const id = deliveries[0]!.id;
    await h.hooks.deliverDue();
    h.clock.advance('1s');
    await h.hooks.deliverDue();
    h.clock.advance('5s');
    await h.hooks.deliverDue();
    expect(await h.hooks.getDelivery('org_1', id)).toMatchObject({ status: 'failed', attemptCount: 3 });
    expect(paused).toEqual(['failing']);
    await h.hooks.update('org_1', endpointId, { status: 'active' });

    for (const requeue of [() => h.hooks.retryDelivery('org_1', id), () => h.hooks.replay('org_1', endpointId, { since: new Date(0) })]) {
      h.receiver.failNext(1, 500);
      await requeue();
      await h.hooks.deliverDue();
      const afterOne = await h.hooks.getDelivery('org_1', id);
      expect(afterOne.status).toBe('pending');
      expect(afterOne.nextAttemptAt!.getTime() - afterOne.lastAttemptAt!.getTime()).toBe(1000);
      expect((await h.hooks.get('org_1', endpointId)).status).toBe('active');
      h.clock.advance('1s');
      await h.hooks.deliverDue();
      expect(await h.hooks.getDelivery('org_1', id)).toMatchObject({ status: 'succeeded' });
    }
    expect(paused).toEqual(['failing']);

    // And a re-sent delivery that fails every retry again pauses the endpoint, as the first round did.
    h.receiver.failNext(3, 500);
    await h.hooks.retryDelivery('org_1', id);
    await h.hooks.deliverDue();
    h.clock.advance('1s');
    await h.hooks.deliverDue();
    expect((await h.hooks.getDelivery('org_1', id)).status).toBe('pending');
    h.clock.advance('5s');
    await h.hooks.deliverDue();
    expect(await h.hooks.getDelivery('org_1', id)).toMatchObject({ status: 'failed', attemptCount: 10 });
    expect(paused).toEqual(['failing', 'failing']);
  });

  it('replay re-enqueues the endpoint\'s finished deliveries in [since, until) and says how many', async () => {
    h = await harness();
    const endpointId = await h.endpoint();
    const other = await h.endpoint();
    const t0 = h.clock.now();
    for (let i = 0; i < 4; i++) {
      await h.hooks.emit('org_1', { type: 'execution.completed', data: { i } });
      h.clock.advance('1h');
    }
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(8);

    const { replayed } = await h.hooks.replay('org_1', endpointId, { since: new Date(t0 + 3_600_000), until: new Date(t0 + 3 * 3_600_000) });
    expect(replayed).toBe(2);
    await h.hooks.deliverDue();
    expect(h.receiver.requests).toHaveLength(10);
    expect((await h.hooks.replay('org_1', other, { since: new Date(t0), status: 'failed' })).replayed).toBe(0);
    expect((await h.hooks.replay('org_1', other, { since: new Date(t0).toISOString() })).replayed).toBe(4);

    await expect(h.hooks.replay('org_2', endpointId, { since: new Date(t0) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(h.hooks.replay('org_1', endpointId, {} as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { since: 'is required' } });
    await expect(h.hooks.replay('org_1', endpointId, { since: new Date(t0), status: 'pending' as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { status: expect.any(String) } });
  });
});
