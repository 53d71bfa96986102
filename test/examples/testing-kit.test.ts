// The README's "Testing your webhook code" snippet, as a test: if it stops working, so does this.
import { afterEach, expect, it } from 'vitest';
import { WebhookService, memoryStorage } from '../../src/index.js';
import { type TestReceiver, createTestReceiver, manualClock } from '../../src/testing/index.js';

let receiver: TestReceiver | undefined;
afterEach(async () => receiver?.close());

it('README: a failed first attempt is retried after the first step of the schedule, signed both times', async () => {
  const clock = manualClock();
  receiver = await createTestReceiver();
  const hooks = new WebhookService({
    storage: memoryStorage(),
    eventTypes: ['invoice.paid'],
    clock,
    delivery: { allowHttp: true, allowPrivateNetworks: true }, // the receiver is on 127.0.0.1
  });
  const { secret } = await hooks.create('org_1', { url: receiver.url, events: ['invoice.paid'] });
  receiver.setSecret(secret); // verify every request as a customer would

  receiver.failNext(1); // the first attempt gets a 500
  await hooks.emit('org_1', { type: 'invoice.paid', data: { invoiceId: 'inv_1' } });
  await hooks.deliverDue(); // attempt 1: 500, retry due in 1 s
  clock.advance('999ms');
  await hooks.deliverDue(); // not due yet: nothing sent
  expect(receiver.requests).toHaveLength(1);
  clock.advance('1ms');
  await hooks.deliverDue(); // attempt 2: 200

  expect(receiver.requests).toHaveLength(2);
  expect(receiver.requests.map((r) => r.verified)).toEqual([true, true]);
  expect(receiver.requests[1]?.json).toMatchObject({ type: 'invoice.paid', data: { invoiceId: 'inv_1' } });
  const [delivery] = (await hooks.listDeliveries('org_1')).data;
  expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 2 });
});
