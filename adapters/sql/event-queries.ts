import { WebhookError } from '../../src/errors.js';
import { placeAtWrite } from '../../src/delivery/transitions.js';
import type { WebhookEvent } from '../../src/model.js';
import type { InsertEventResult, NewEventWrite } from '../../src/storage/storage.js';
import { endpointState } from './delivery-queries.js';
import type { Db, SqlDialect } from './dialect.js';
import { deliveryFromRow, eventFromRow, eventToRow, type EventRow, type NewEventRow } from './rows.js';
import type { WritePath } from './write-path.js';

/**
 * One emit inside `tx`: the held deliveries re-decided, the rows written by the engine's write
 * path, and for an event that conflicted, the answer the first write got.
 */
export async function insertEventIn(
  tx: Db,
  dialect: SqlDialect,
  writePath: WritePath,
  given: NewEventWrite,
  inHostTransaction: boolean,
): Promise<InsertEventResult> {
  const write = await heldAtWrite(tx, dialect, given);
  let created: boolean;
  try {
    // DO NOTHING on any unique conflict of the event row: the idempotency index (a racing or
    // earlier emit with the same key) or the primary key (our own commit, retried after a lost
    // acknowledgement). On Postgres a racing insert waits for the first to commit, then conflicts.
    created = await writePath.writeEventRows(tx, write, inHostTransaction);
  } catch (error) {
    // Our own transaction, or the host's savepoint (see insertEvent), rolls back the event row too.
    if (dialect.isUniqueViolation(error)) throw new WebhookError('CONFLICT', 'delivery id already exists', { cause: error });
    throw error;
  }
  if (!created) return existingEvent(tx, write.event);
  return { event: structuredClone(write.event), deliveries: write.deliveries.map((d) => structuredClone(d)), created: true };
}

/** The stored event an emit conflicted with, and its deliveries. */
async function existingEvent(tx: Db, event: WebhookEvent): Promise<InsertEventResult> {
  const sameId = await tx.selectFrom('hookrelay_events').selectAll().where('id', '=', event.id).executeTakeFirst();
  const existing =
    sameId ??
    (event.idempotencyKey === null
      ? undefined
      : await tx
          .selectFrom('hookrelay_events')
          .selectAll()
          .where('org_id', '=', event.orgId)
          .where('idempotency_key', '=', event.idempotencyKey)
          .executeTakeFirst());
  if (!existing) throw new WebhookError('CONFLICT', 'the event could not be written; try again');
  // The same id with other content is a genuine clash, not our retried write.
  if (sameId && !sameEventRow(sameId, eventToRow(event))) throw new WebhookError('CONFLICT', 'event id already exists');
  const deliveries = await tx.selectFrom('hookrelay_deliveries').selectAll().where('event_id', '=', existing.id).orderBy('id').execute();
  return { event: eventFromRow(existing), deliveries: deliveries.map(deliveryFromRow), created: sameId !== undefined };
}

/**
 * Re-decides the deliveries emit marked held from the endpoints' state inside this write
 * (`placeAtWrite` in src/delivery/transitions.ts). FOR SHARE orders it with a concurrent resume, which locks
 * the endpoint row before releasing held deliveries: either we see the endpoint active, or
 * the resume waits for our commit and its release then finds our rows.
 */
async function heldAtWrite(tx: Db, dialect: SqlDialect, write: NewEventWrite): Promise<NewEventWrite> {
  const heldEndpointIds = [...new Set(write.deliveries.filter((d) => d.status === 'held').map((d) => d.endpointId))].sort();
  if (heldEndpointIds.length === 0) return write;
  const rows = await tx
    .selectFrom('hookrelay_endpoints')
    .select(['id', 'status', 'deleted_at'])
    .where('id', 'in', heldEndpointIds)
    .orderBy('id')
    .$if(dialect.supportsRowLocks, (qb) => qb.forShare())
    .execute();
  const states = new Map(rows.map((r) => [r.id, endpointState(r)]));
  return { event: write.event, deliveries: write.deliveries.map((d) => placeAtWrite(d, states.get(d.endpointId))) };
}

function sameEventRow(stored: EventRow, written: NewEventRow): boolean {
  return stored.org_id === written.org_id && stored.type === written.type && stored.data === written.data && Number(stored.created_at) === written.created_at;
}
