import { WebhookError } from '../../src/errors.js';
import type { Db, SqlDialect } from './dialect.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations.js';

/**
 * Brings the schema up to `LATEST_VERSION` in one transaction under the dialect's migration
 * lock: a second process that starts at the same moment waits, then finds nothing to do.
 * A database migrated by a newer hookrelay is refused rather than written with old assumptions.
 *
 * Not kysely's `Migrator`: databases of every earlier release record their schema as versions in
 * `hookrelay_migrations`, which it cannot read (it keeps names in tables of its own, two more in
 * the host's database); on SQLite it runs migrations outside a transaction with no lock, so two
 * processes starting on one file could both create a table, and a crash could leave half a schema.
 */
export async function runMigrations(db: Db, dialect: SqlDialect): Promise<void> {
  await dialect.writeTransaction(db, async (tx) => {
    await dialect.lockMigrations(tx);
    await dialect.ensureSchema(tx);
    await tx.schema
      .createTable('hookrelay_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
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
      await migration.up(tx);
      await tx
        .insertInto('hookrelay_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
        .execute();
    }
  });
}
