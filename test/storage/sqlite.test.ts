import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { describeStorageConformance } from './conformance.js';

// A real file per test, in WAL mode, as hosts run it.
describeStorageConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-sqlite-'));
  const storage = sqliteStorage({ filename: join(dir, 'webhooks.db') });
  await storage.migrate();
  return {
    storage,
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
