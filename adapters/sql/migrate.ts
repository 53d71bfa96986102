import { sql } from 'kysely';
import { WebhookError } from '../../src/errors.js';
import type { Db, SqlDialect } from './dialect.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations.js';
import type { TableName } from './schema.js';

/**
 * Brings the schema up to `LATEST_VERSION` in one transaction under the dialect's migration
 * lock: a second process that starts at the same moment waits, then finds nothing to do.
 * A database migrated by a newer hookrelay is refused rather than written with old assumptions.
 */
export async function runMigrations(db: Db, dialect: SqlDialect, qualify: (name: TableName) => string): Promise<void> {
  await dialect.writeTransaction(db, async (tx) => {
    await dialect.lockMigrations(tx);
    await dialect.ensureSchema(tx);
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ${qualify('hookrelay_migrations')} (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at bigint NOT NULL
        )`,
      )
      .execute(tx);
    const rows = await tx.selectFrom('hookrelay_migrations').select('version').execute();
    const applied = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...applied);
    if (newest > LATEST_VERSION) {
      throw new WebhookError(
        'CONFLICT',
        `the webhook tables are at schema version ${newest}, newer than this hookrelay understands (${LATEST_VERSION}); upgrade hookrelay`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      for (const statement of dialect.migrationStatements(migration, qualify)) await sql.raw(statement).execute(tx);
      await tx
        .insertInto('hookrelay_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
        .execute();
    }
  });
}
