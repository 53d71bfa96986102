import { findPostgresBin, startPostgresCluster } from '../../test/support/postgres-cluster.js';

/** A Postgres for the benchmark: HOOKRELAY_BENCH_PG_URL / HOOKRELAY_TEST_PG_URL, or a throwaway cluster (fsync off). */
export async function benchPostgres(): Promise<{ url: string; stop(): Promise<void> } | null> {
  const url = process.env.HOOKRELAY_BENCH_PG_URL ?? process.env.HOOKRELAY_TEST_PG_URL;
  if (url) return { url, stop: async () => {} };
  const bin = findPostgresBin();
  return bin ? startPostgresCluster(bin) : null;
}
