import type { Delivery, EndpointStatus } from '../model.js';

/** What a storage knows of an endpoint when it writes a delivery (`deletedAt` as a Date or epoch ms). */
export type EndpointStateAtWrite = { status: EndpointStatus; deletedAt: Date | number | null } | null | undefined;

/**
 * `emit` marks a delivery `held` from an endpoint read taken before the write. If the endpoint
 * was resumed in between, its release of held deliveries ran before this row existed, and a
 * `held` row would wait for a pause and resume that may never come. So the endpoint's state at
 * write time decides: still paused → held; active again → pending, due at the event's time;
 * deleted → cancelled, as the delete would have done. A `pending` delivery needs no check: the
 * scheduler holds or cancels it when it finds the endpoint paused or deleted at claim time.
 */
export function heldDeliveryAtWrite(delivery: Delivery, endpoint: EndpointStateAtWrite): Delivery {
  if (delivery.status !== 'held') return delivery;
  if (!endpoint || endpoint.deletedAt !== null) {
    return { ...delivery, status: 'cancelled', nextAttemptAt: null, completedAt: delivery.createdAt };
  }
  if (endpoint.status === 'paused') return delivery;
  return { ...delivery, status: 'pending', nextAttemptAt: delivery.createdAt };
}
