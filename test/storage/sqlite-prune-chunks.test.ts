import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { sqliteDialect } from '../../adapters/sqlite/sqlite-dialect.js';
import { describeStorageConformance } from './conformance.js';

// Prune works in short transactions of a bounded number of rows. With two rows a chunk, every
// prune in the suite crosses chunk boundaries, and must still remove exactly what it should.
describeStorageConformance('sqlite, prune in chunks of 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-prune-'));
  const database = new Database(join(dir, 'webhooks.db'));
  database.pragma('journal_mode = WAL');
  const storage = new SqlStorage({ dialect: sqliteDialect, db: new Kysely({ dialect: new SqliteDialect({ database }) }), ownsDb: true, pruneChunk: 2 });
  await storage.migrate();
  return {
    storage,
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
