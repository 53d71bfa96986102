import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject } from 'vitest';

/**
 * The run's Postgres URL. Without one, Postgres suites fail under CI=true (CI must test
 * Postgres) and are skipped with a visible warning elsewhere.
 */
export function postgresUrl(): string | null {
  const url = inject('pgUrl');
  if (url) return url;
  const reason = inject('pgUnavailableReason') ?? 'no Postgres available';
  if (process.env.CI === 'true') throw new Error(`Postgres suites need a server under CI: ${reason}`);
  console.warn(`\n⚠ SKIPPING Postgres suites: ${reason}\n`);
  return null;
}

/** `describe` when a Postgres is available, `describe.skip` (after the warning) otherwise. */
export function describePostgres(name: string, body: (url: string) => void): void {
  const url = postgresUrl();
  if (url) describe(name, () => body(url));
  else describe.skip(name, () => {});
}

/** A fresh database on the cluster, for suites that need a whole database (several schemas, processes). */
export async function createTestDatabase(url: string, prefix = 'hookrelay_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return {
    url: dbUrl.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A unique schema name for one test. */
export function testSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
