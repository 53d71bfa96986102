import type { ExpressionBuilder } from 'kysely';
import { FINISHED_STATUSES } from '../../src/delivery/transitions.js';
import type { Db } from './dialect.js';
import type { HookrelayDatabase } from './schema.js';

function prunableDelivery(eb: ExpressionBuilder<HookrelayDatabase, 'hookrelay_deliveries'>, cutoff: number) {
  return eb.and([eb('completed_at', 'is not', null), eb('completed_at', '<', cutoff), eb('status', 'in', FINISHED_STATUSES)]);
}

/** An event no delivery refers to any more; checked again by the DELETE, as an emit may have raced it. */
function noDeliveryLeft({ not, exists, selectFrom }: ExpressionBuilder<HookrelayDatabase, 'hookrelay_events'>) {
  return not(exists(selectFrom('hookrelay_deliveries as kept').select('kept.id').whereRef('kept.event_id', '=', 'hookrelay_events.id')));
}

/** Deletes up to `chunk` finished deliveries completed before `cutoff`, then their attempts. */
export async function pruneDeliveryChunk(tx: Db, cutoff: number, chunk: number): Promise<{ deliveries: number; attempts: number; full: boolean }> {
  // The partial completed_at index finds them. The condition is checked again by the DELETE:
  // a delivery re-sent since the SELECT (retry, replay) is no longer finished and stays.
  const candidates = await tx
    .selectFrom('hookrelay_deliveries')
    .select('id')
    .where((eb) => prunableDelivery(eb, cutoff))
    .orderBy('completed_at')
    .limit(chunk)
    .execute();
  const full = candidates.length === chunk;
  if (candidates.length === 0) return { deliveries: 0, attempts: 0, full };
  const deleted = await tx
    .deleteFrom('hookrelay_deliveries')
    .where('id', 'in', candidates.map((c) => c.id))
    .where((eb) => prunableDelivery(eb, cutoff))
    .returning('id')
    .execute();
  if (deleted.length === 0) return { deliveries: 0, attempts: 0, full };
  const attempts = await tx
    .deleteFrom('hookrelay_attempts')
    .where('delivery_id', 'in', deleted.map((d) => d.id))
    .executeTakeFirst();
  return { deliveries: deleted.length, attempts: Number(attempts.numDeletedRows), full };
}

/**
 * Deletes up to `chunk` events created before `cutoff` with no delivery left, including events
 * that matched no endpoint: (created_at) finds them, (event_id) answers whether a delivery
 * remains. Deleting an event frees its idempotency key.
 */
export async function pruneEventChunk(tx: Db, cutoff: number, chunk: number): Promise<{ events: number; full: boolean }> {
  const candidates = await tx
    .selectFrom('hookrelay_events')
    .select('id')
    .where('created_at', '<', cutoff)
    .where(noDeliveryLeft)
    .orderBy('created_at')
    .limit(chunk)
    .execute();
  const full = candidates.length === chunk;
  if (candidates.length === 0) return { events: 0, full };
  const deleted = await tx
    .deleteFrom('hookrelay_events')
    .where('id', 'in', candidates.map((c) => c.id))
    .where(noDeliveryLeft)
    .executeTakeFirst();
  return { events: Number(deleted.numDeletedRows), full };
}
