import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { describeStorageConformance } from './conformance.js';

// One pool for the file, a fresh schema per test: the host-pool path (`{ pool }`) and `schema`
// are exercised by every conformance test.
describePostgres('postgres', (url) => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: url, max: 20 });
  });
  afterAll(async () => {
    await pool.end();
  });

  describeStorageConformance('postgres', async () => {
    const schema = testSchema();
    const storage = postgresStorage({ pool, schema });
    await storage.migrate();
    return {
      storage,
      close: async () => {
        await storage.close();
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
      },
    };
  });
});
