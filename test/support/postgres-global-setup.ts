import type { TestProject } from 'vitest/node';
import { findPostgresBin, type PostgresCluster, startPostgresCluster } from './postgres-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Postgres superuser URL for the run, or null when no server could be had. */
    pgUrl: string | null;
    /** Why `pgUrl` is null. */
    pgUnavailableReason: string | null;
  }
}

/**
 * One throwaway Postgres cluster for the whole run (HOOKRELAY_TEST_PG_URL overrides it).
 * Each test file then makes its own database or schema, so files never see each other's rows.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const override = process.env.HOOKRELAY_TEST_PG_URL;
  if (override) {
    project.provide('pgUrl', override);
    project.provide('pgUnavailableReason', null);
    return async () => {};
  }
  const bin = findPostgresBin();
  if (!bin) {
    project.provide('pgUrl', null);
    project.provide('pgUnavailableReason', 'no Postgres server binaries under /usr/lib/postgresql/*/bin and HOOKRELAY_TEST_PG_URL is not set');
    return async () => {};
  }
  let cluster: PostgresCluster;
  try {
    cluster = await startPostgresCluster(bin);
  } catch (error) {
    project.provide('pgUrl', null);
    project.provide('pgUnavailableReason', `could not start a throwaway Postgres: ${error instanceof Error ? error.message : String(error)}`);
    return async () => {};
  }
  project.provide('pgUrl', cluster.url);
  project.provide('pgUnavailableReason', null);
  return () => cluster.stop();
}
