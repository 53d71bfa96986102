import { notFound, validationFailed } from '../errors.js';
import type { ErrorDetails } from '../errors.js';
import type { DeliveryStatus } from '../model.js';
import type { WebhookService } from '../service.js';
import { call, parseLimit, parseTimestamp, readBodyFields, readQuery, requireNoInput } from './input.js';
import { type Route, answer } from './routes.js';
import type { Field } from './wire-format.js';

const LIST_FIELDS: readonly Field[] = ['status', 'eventId', 'since', 'until', 'limit', 'cursor'];
const REPLAY_FIELDS: readonly Field[] = ['since', 'until', 'status'];
const DELIVERY_STATUSES = ['pending', 'held', 'succeeded', 'failed', 'cancelled'];
const REPLAY_STATUSES = ['succeeded', 'failed', 'cancelled'];

/** Collects every timestamp problem before failing, like the rest of validation. */
function timestamps(values: { since?: unknown; until?: unknown }, details: ErrorDetails): { since?: Date; until?: Date } {
  const out: { since?: Date; until?: Date } = {};
  for (const field of ['since', 'until'] as const) {
    if (values[field] === undefined) continue;
    try {
      out[field] = parseTimestamp(values[field], field);
    } catch (error) {
      Object.assign(details, (error as { details?: ErrorDetails }).details);
    }
  }
  if (out.since && out.until && out.since.getTime() >= out.until.getTime()) details.until = 'must be after since';
  return out;
}

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
      const details: ErrorDetails = {};
      const { since, until } = timestamps(q, details);
      if (q.status !== undefined && !DELIVERY_STATUSES.includes(q.status)) details.status = `must be one of: ${DELIVERY_STATUSES.join(', ')}`;
      let limit: number | undefined;
      try {
        limit = parseLimit(q.limit);
      } catch (error) {
        Object.assign(details, (error as { details?: ErrorDetails }).details);
      }
      if (Object.keys(details).length) throw validationFailed(details);
      const endpointId = params.id as string;
      await service.get(orgId, endpointId);
      const page = await call(wire, () =>
        service.listDeliveries(orgId, {
          endpointId,
          ...(q.eventId === undefined ? {} : { eventId: q.eventId }),
          ...(q.status === undefined ? {} : { status: q.status as DeliveryStatus }),
          ...(since ? { since } : {}),
          ...(until ? { until } : {}),
          ...(limit === undefined ? {} : { limit }),
          cursor: q.cursor ?? null,
        }),
      );
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
      const check = (input: Record<string, unknown>): { since: Date; until?: Date; status?: 'succeeded' | 'failed' | 'cancelled' } => {
        const details: ErrorDetails = {};
        if (input.since === undefined) details.since = 'is required';
        const { since, until } = timestamps(input, details);
        if (input.status !== undefined && !(typeof input.status === 'string' && REPLAY_STATUSES.includes(input.status))) {
          details.status = `must be one of: ${REPLAY_STATUSES.join(', ')}`;
        }
        if (Object.keys(details).length) throw validationFailed(details);
        return {
          since: since as Date,
          ...(until ? { until } : {}),
          ...(input.status === undefined ? {} : { status: input.status as 'succeeded' | 'failed' | 'cancelled' }),
        };
      };
      const input = readBodyFields(body, REPLAY_FIELDS, wire, check);
      const options = check(input);
      return answer(202, await call(wire, () => service.replay(orgId, params.id as string, options)));
    },
  },
];
