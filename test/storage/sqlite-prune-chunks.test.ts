import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { sqliteDialect } from '../../adapters/sqlite/sqlite-dialect.js';
import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';
import { describeStorageConformance } from './conformance.js';

// Prune works in short transactions of a bounded number of rows. With two rows a chunk, every
// prune in the suite crosses chunk boundaries, and must still remove exactly what it should.
describeStorageConformance('sqlite, prune in chunks of 2', () =>
  openSqliteFileStorage('hookrelay-prune-', (filename) => {
    const database = new Database(filename);
    database.pragma('journal_mode = WAL');
    return new SqlStorage({ dialect: sqliteDialect, db: new Kysely({ dialect: new SqliteDialect({ database }) }), ownsDb: true, pruneChunk: 2 });
  }),
);
