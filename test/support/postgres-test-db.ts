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

/** Drops a test's schema (the cluster may be the developer's own, via HOOKRELAY_TEST_PG_URL). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** A unique schema name for one test. */
export function testSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}
