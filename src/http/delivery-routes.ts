import { notFound } from '../errors.js';
import type { WebhookService } from '../service.js';
import { deliveryListQuerySchema, validateReplay } from '../validation/delivery.js';
import { parseInput } from '../validation/issues.js';
import { call, readBodyFields, readQuery, requireNoInput } from './input.js';
import { type Route, answer } from './routes.js';
import type { Field } from './wire-format.js';

const LIST_FIELDS: readonly Field[] = ['status', 'eventId', 'since', 'until', 'limit', 'cursor'];
const REPLAY_FIELDS: readonly Field[] = ['since', 'until', 'status'];

/**
 * A delivery of this endpoint, or NOT_FOUND: the endpoint must be the caller's and live, and the
 * delivery must belong to it, so no id of another org or endpoint reveals anything.
 */
async function requireEndpointDelivery(service: WebhookService, orgId: string, endpointId: string, deliveryId: string) {
  await service.get(orgId, endpointId);
  const delivery = await service.getDelivery(orgId, deliveryId);
  if (delivery.endpointId !== endpointId) throw notFound('delivery');
  return delivery;
}

export const DELIVERY_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/webhooks/:id/test',
    access: 'write',
    body: 'empty',
    async run({ service, orgId, params, body, query, wire }) {
      readQuery(query, [], wire);
      requireNoInput(body);
      const { event, delivery } = await service.sendTestEvent(orgId, params.id as string);
      return answer(202, { event: wire.event(event), delivery: wire.delivery(delivery) });
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    access: 'read',
    body: 'none',
    async run({ service, orgId, params, query, wire }) {
      const q = readQuery(query, LIST_FIELDS, wire);
      const options = await call(wire, async () => parseInput(deliveryListQuerySchema, q));
      const endpointId = params.id as string;
      await service.get(orgId, endpointId);
      const page = await call(wire, () => service.listDeliveries(orgId, { ...options, endpointId }));
      return answer(200, wire.page(page.data, page.nextCursor, (d) => wire.delivery(d)));
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id/deliveries/:deliveryId',
    access: 'read',
    body: 'none',
    async run({ service, orgId, params, query, wire }) {
      readQuery(query, [], wire);
      const delivery = await requireEndpointDelivery(service, orgId, params.id as string, params.deliveryId as string);
      return answer(200, wire.deliveryWithAttempts(delivery));
    },
  },
  {
    method: 'POST',
    path: '/webhooks/:id/deliveries/:deliveryId/retry',
    access: 'write',
    body: 'empty',
    async run({ service, orgId, params, body, query, wire }) {
      readQuery(query, [], wire);
      requireNoInput(body);
      const { id } = await requireEndpointDelivery(service, orgId, params.id as string, params.deliveryId as string);
      return answer(202, wire.delivery(await service.retryDelivery(orgId, id)));
    },
  },
  {
    method: 'POST',
    path: '/webhooks/:id/replay',
    access: 'write',
    body: 'object',
    async run({ service, orgId, params, body, query, wire }) {
      readQuery(query, [], wire);
      const input = readBodyFields(body, REPLAY_FIELDS, wire, validateReplay);
      const options = await call(wire, async () => validateReplay(input));
      return answer(202, await call(wire, () => service.replay(orgId, params.id as string, options)));
    },
  },
];
