import { applyPatch } from '../../src/delivery/transitions.js';
import { limitExceeded, WebhookError } from '../../src/errors.js';
import type { EndpointRecord, EndpointSecret, PausedReason } from '../../src/model.js';
import { rotateSecrets } from '../../src/signing/secret-rotation.js';
import type { EndpointPatch } from '../../src/storage/storage.js';
import { applyEndpointChange } from './delivery-queries.js';
import type { Db, SqlDialect } from './dialect.js';
import { encodeSecrets, endpointFromRow, endpointToRow } from './rows.js';

export function liveEndpointQuery(db: Db, orgId: string, id: string) {
  return db.selectFrom('hookrelay_endpoints').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('deleted_at', 'is', null);
}

/** The live endpoint, locked for update where the engine has row locks. */
function lockedLiveEndpoint(tx: Db, dialect: SqlDialect, orgId: string, id: string) {
  return liveEndpointQuery(tx, orgId, id)
    .$if(dialect.supportsRowLocks, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

export async function createEndpointIn(tx: Db, dialect: SqlDialect, record: EndpointRecord, limits: { maxPerOrg: number }): Promise<EndpointRecord> {
  await dialect.lockOrg(tx, record.orgId);
  // A retry of a create whose commit the client never saw finds its own row: the same endpoint, not a second one.
  const existing = await tx.selectFrom('hookrelay_endpoints').selectAll().where('id', '=', record.id).executeTakeFirst();
  if (existing) {
    if (existing.org_id === record.orgId && Number(existing.created_at) === record.createdAt.getTime()) return endpointFromRow(existing);
    throw new WebhookError('CONFLICT', 'endpoint id already exists');
  }
  // Served by (org_id, id); the org lock makes count-then-insert one step across processes.
  const { count } = await tx
    .selectFrom('hookrelay_endpoints')
    .select((eb) => eb.fn.countAll().as('count'))
    .where('org_id', '=', record.orgId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  if (Number(count) >= limits.maxPerOrg) throw limitExceeded(`webhook endpoint limit reached (max ${limits.maxPerOrg})`);
  await tx.insertInto('hookrelay_endpoints').values(endpointToRow(record)).execute();
  return structuredClone(record);
}

export async function updateEndpointIn(tx: Db, dialect: SqlDialect, orgId: string, id: string, patch: EndpointPatch, now: Date): Promise<EndpointRecord | null> {
  const row = await lockedLiveEndpoint(tx, dialect, orgId, id);
  if (!row) return null;
  const { endpoint, change } = applyPatch(endpointFromRow(row), patch, now);
  const { secrets: _secrets, id: _id, org_id: _org, created_at: _created, ...changes } = endpointToRow(endpoint);
  await tx.updateTable('hookrelay_endpoints').set(changes).where('id', '=', id).execute();
  if (change) {
    const moved = await applyEndpointChange(tx, id, change, now);
    if (change === 'resumed' && moved > 0) await dialect.notify?.(tx);
  }
  return endpoint;
}

/**
 * `pauseFor` (src/delivery/transitions.ts) as one guarded UPDATE: the WHERE restates "only an
 * active, live endpoint pauses", so a racing caller updates no row (held equal by the agreement test).
 */
export async function pauseIn(tx: Db, id: string, reason: PausedReason, now: Date): Promise<EndpointRecord | null> {
  const row = await tx
    .updateTable('hookrelay_endpoints')
    .set({ status: 'paused', paused_reason: reason, updated_at: now.getTime() })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
  if (!row) return null;
  await applyEndpointChange(tx, id, 'paused', now);
  return endpointFromRow(row);
}

export async function deleteEndpointIn(tx: Db, orgId: string, id: string, now: Date): Promise<boolean> {
  const result = await tx
    .updateTable('hookrelay_endpoints')
    .set({ deleted_at: now.getTime(), updated_at: now.getTime() })
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await applyEndpointChange(tx, id, 'deleted', now);
  return true;
}

export async function rotateSecretIn(
  tx: Db,
  dialect: SqlDialect,
  orgId: string,
  id: string,
  secret: EndpointSecret,
  previousExpiresAt: Date,
  now: Date,
): Promise<EndpointRecord | null> {
  const row = await lockedLiveEndpoint(tx, dialect, orgId, id);
  if (!row) return null;
  const e = endpointFromRow(row);
  // A retry of a rotation that committed unseen finds its secret already current: nothing to do.
  if (e.secrets[0]?.secret === secret.secret && e.secrets[0].expiresAt === null) return e;
  e.secrets = rotateSecrets(e.secrets, structuredClone(secret), previousExpiresAt, now);
  e.updatedAt = now;
  await tx
    .updateTable('hookrelay_endpoints')
    .set({ secrets: encodeSecrets(e.secrets), updated_at: now.getTime() })
    .where('id', '=', id)
    .execute();
  return e;
}
