import { afterEach, expect, it } from 'vitest';
import type { SigningScheme } from '../../src/signing/scheme.js';
import { type Harness, harness } from './helpers.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** A host's own scheme, broken: the request cannot be signed, so it cannot be built. */
const throwingScheme: SigningScheme = {
  name: 'broken-kms',
  sign() {
    throw new Error('KMS unavailable');
  },
};

it('a request that cannot be built counts as a failed attempt: recorded, retried on the schedule, failed and paused at the end, never sent', async () => {
  const paused: string[] = [];
  h = await harness({ signing: throwingScheme, retry: { schedule: ['1s', '5s'] }, onEndpointPaused: ({ reason }) => void paused.push(reason) });
  const endpointId = await h.endpoint();
  const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
  const id = deliveries[0]!.id;

  await h.hooks.deliverDue();
  const first = await h.hooks.getDelivery('org_1', id);
  expect(first).toMatchObject({ status: 'pending', attemptCount: 1, lastError: 'internal', lastStatusCode: null });
  expect(first.attempts[0]).toMatchObject({ attemptNumber: 1, errorKind: 'internal', statusCode: null, errorMessage: 'could not build the request: KMS unavailable' });
  expect(first.nextAttemptAt!.getTime() - first.lastAttemptAt!.getTime()).toBe(1000);

  h.clock.advance('1s');
  await h.hooks.deliverDue();
  h.clock.advance('5s');
  await h.hooks.deliverDue();
  expect(await h.hooks.getDelivery('org_1', id)).toMatchObject({ status: 'failed', attemptCount: 3 });
  expect((await h.hooks.get('org_1', endpointId)).pausedReason).toBe('failing');
  expect(paused).toEqual(['failing']);
  expect(h.receiver.requests).toHaveLength(0);
});
