import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';

/**
 * A migrated SQLite storage on a real file in a fresh temp dir (WAL, as hosts run it); `close`
 * removes the dir. `open` builds the storage on the file (default: `sqliteStorage({ filename })`).
 */
export async function openSqliteFileStorage(
  prefix: string,
  open: (filename: string) => SqlStorage = (filename) => sqliteStorage({ filename }),
): Promise<{ storage: SqlStorage; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const storage = open(join(dir, 'webhooks.db'));
  await storage.migrate();
  return {
    storage,
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
