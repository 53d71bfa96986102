/**
 * Storage benchmarks, in one run beside the peers in ../shared/peers: emits/s from 16
 * concurrent callers and deliveries/s for SQLite and Postgres (against pg-boss at its best
 * tuning, BATCH=1000, and the raw undici ceiling), claim latency with a small and a large
 * backlog, and the scheduler's memory through a large backlog.
 *
 * Standalone: `npx tsx bench/storage/index.ts [--quick]`. Postgres comes from
 * HOOKRELAY_BENCH_PG_URL (or HOOKRELAY_TEST_PG_URL), else a throwaway cluster (fsync off).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresStorage } from '../../adapters/postgres/index.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import type { BenchOptions, BenchRow } from '../bench-row.js';
import { fillPostgresBacklog, fillSqliteBacklog } from './backlog.js';
import { benchPostgres } from './postgres-server.js';
import { PEERS, ensurePeersInstalled, startPeerReceiver } from '../peers.js';
import { IN_FLIGHT, measureThroughput, type ThroughputResult } from './throughput.js';


/** Claim latency at a large backlog beside the same claim at a small one: the target is "within 2×". */
function claimLatencyRow(storage: string, small: { backlog: number; ms: number }, big: { backlog: number; ms: number }): BenchRow {
  return row({
    name: `${storage} claim of 100, ${big.backlog.toLocaleString('en-US')} pending`,
    ours: big.ms,
    baseline: small.ms,
    baselineName: `same, ${small.backlog.toLocaleString('en-US')} pending`,
    unit: 'ms',
    ratio: small.ms / big.ms,
    lowerIsBetter: true,
    target: 'within 2×',
    met: big.ms <= 2 * small.ms,
  });
}

function lastJsonLine<T>(out: string): T {
  return JSON.parse(out.trim().split('\n').pop() as string) as T;
}

function rawUndici(n: number): number {
  const out = execFileSync(process.execPath, [`${PEERS}/raw-undici.mjs`, String(n), String(IN_FLIGHT)], { encoding: 'utf8' });
  return lastJsonLine<{ deliveries_per_s: number }>(out).deliveries_per_s;
}

function pgBoss(url: string, n: number): { emits: number; deliveries: number } {
  const out = execFileSync(process.execPath, [`${PEERS}/pgboss.mjs`, String(n)], {
    encoding: 'utf8',
    env: { ...process.env, PG_URL: url, BATCH: '1000' },
    timeout: 600_000,
  });
  const r = lastJsonLine<{ emits_per_s: number; deliveries_per_s: number }>(out);
  return { emits: r.emits_per_s, deliveries: r.deliveries_per_s };
}

async function createDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hookrelay_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return {
    url: dbUrl.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Each figure's median over the rounds (figures of different rounds may be combined). */
function medianThroughput(runs: ThroughputResult[]): ThroughputResult {
  return {
    emitsPerSec: median(runs.map((r) => r.emitsPerSec)),
    deliveriesPerSec: median(runs.map((r) => r.deliveriesPerSec)),
    emitP50Ms: median(runs.map((r) => r.emitP50Ms)),
    emitP99Ms: median(runs.map((r) => r.emitP99Ms)),
  };
}

/** Median latency of `rounds` claims of 100 from a backlog of `pending` deliveries. */
async function claimLatency(storage: SqlStorage, rounds: number): Promise<number> {
  const times: number[] = [];
  const farFuture = new Date(Date.now() + 86_400_000);
  for (let i = 0; i < rounds + 3; i++) {
    const t0 = performance.now();
    const claimed = await storage.claimDueDeliveries({ now: farFuture, limit: 100, leaseMs: 86_400_000, leaseToken: `bench${i}` });
    const ms = performance.now() - t0;
    if (claimed.length !== 100) throw new Error(`claimed ${claimed.length}, expected 100`);
    if (i >= 3) times.push(ms);
  }
  return median(times);
}

async function endpointFor(storage: SqlStorage, url: string): Promise<string> {
  await storage.migrate();
  const hooks = new WebhookService({ storage, eventTypes: ['execution.completed'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
  const { endpoint } = await hooks.create('org_1', { url, events: ['execution.completed'] });
  return endpoint.id;
}

function tempFile(dirs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-bench-'));
  dirs.push(dir);
  return join(dir, 'webhooks.db');
}

async function sqliteClaimLatency(dirs: string[], pending: number): Promise<number> {
  const filename = tempFile(dirs);
  const setup = sqliteStorage({ filename });
  const endpointId = await endpointFor(setup, 'http://127.0.0.1:9/hook');
  await setup.close();
  fillSqliteBacklog(filename, endpointId, pending, false);
  const storage = sqliteStorage({ filename });
  try {
    return await claimLatency(storage, 30);
  } finally {
    await storage.close();
  }
}

async function postgresClaimLatency(url: string, pending: number): Promise<number> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const storage = postgresStorage({ connectionString: url, schema });
  try {
    const endpointId = await endpointFor(storage, 'http://127.0.0.1:9/hook');
    await fillPostgresBacklog(url, schema, endpointId, pending);
    return await claimLatency(storage, 30);
  } finally {
    await storage.close();
  }
}

/** The scheduler draining a prefilled SQLite backlog, in its own process. */
async function backlogMemory(
  dirs: string[],
  count: number,
): Promise<{ early: number; peak: number; settledEarly: number; settledLate: number; deliveriesPerSec: number }> {
  const filename = tempFile(dirs);
  const rx = await startPeerReceiver(count);
  try {
    const setup = sqliteStorage({ filename });
    const endpointId = await endpointFor(setup, `http://127.0.0.1:${await rx.port}/hook`);
    await setup.close();
    fillSqliteBacklog(filename, endpointId, count, true);
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./rss-worker.ts', import.meta.url)), filename, String(count)], {
      encoding: 'utf8',
      timeout: 900_000,
    });
    return lastJsonLine(out);
  } finally {
    rx.stop();
  }
}

const row = (r: Omit<BenchRow, 'group'>): BenchRow => ({ group: 'storage', ...r });

/** How long one emit took while 16 callers emitted: the latency a host request pays for its emit. */
function emitLatencyRows(storage: string, result: ThroughputResult): BenchRow[] {
  return [50, 99].map((p) =>
    row({ name: `${storage} emit p${p} (16 callers)`, ours: p === 50 ? result.emitP50Ms : result.emitP99Ms, baseline: null, baselineName: null, unit: 'ms', ratio: null, lowerIsBetter: true }),
  );
}

export async function runStorageBench(options: BenchOptions): Promise<BenchRow[]> {
  const { quick } = options;
  const progress = options.progress ?? ((line: string) => process.stderr.write(`storage: ${line}\n`));
  const n = quick ? 2_000 : 10_000;
  const bigBacklog = quick ? 100_000 : 1_000_000;
  const rssBacklog = quick ? 20_000 : 100_000;
  ensurePeersInstalled();
  const dirs: string[] = [];
  const rows: BenchRow[] = [];
  const server = await benchPostgres();
  try {
    // Several rounds, each side's order alternating, and the median of each figure: one run of
    // each side is at the mercy of whatever else the shared machine did during it (the delivery
    // group measures the same way).
    const rounds = quick ? 1 : 3;
    const rawRuns: number[] = [];
    const liteRuns: ThroughputResult[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? ['raw', 'sqlite'] : ['sqlite', 'raw']) {
        progress(`round ${r + 1}/${rounds}: ${side === 'raw' ? 'raw undici ceiling' : `SQLite: ${n} emits from 16 callers, then delivery`}`);
        if (side === 'raw') rawRuns.push(rawUndici(n));
        else liteRuns.push(await measureThroughput(sqliteStorage({ filename: tempFile(dirs) }), n));
      }
    }
    const raw = median(rawRuns);
    const lite = medianThroughput(liteRuns);

    let boss: { emits: number; deliveries: number } | null = null;
    let pgOurs: ThroughputResult | null = null;
    if (server) {
      const bossRuns: { emits: number; deliveries: number }[] = [];
      const pgRuns: ThroughputResult[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const side of r % 2 === 0 ? ['boss', 'ours'] : ['ours', 'boss']) {
          const database = await createDatabase(server.url);
          try {
            if (side === 'boss') {
              progress(`round ${r + 1}/${rounds}: pg-boss (BATCH=1000): ${n} sends, then delivery`);
              bossRuns.push(pgBoss(database.url, n));
            } else {
              progress(`round ${r + 1}/${rounds}: Postgres: ${n} emits from 16 callers, then delivery`);
              pgRuns.push(await measureThroughput(postgresStorage({ connectionString: database.url, max: 20 }), n));
            }
          } finally {
            await database.drop();
          }
        }
      }
      boss = { emits: median(bossRuns.map((b) => b.emits)), deliveries: median(bossRuns.map((b) => b.deliveries)) };
      pgOurs = medianThroughput(pgRuns);
    }

    rows.push(
      row({ name: 'SQLite emits/s (16 callers)', ours: lite.emitsPerSec, baseline: boss?.emits ?? null, baselineName: boss ? 'pg-boss sends/s' : null, unit: '/s', ratio: boss ? lite.emitsPerSec / boss.emits : null }),
      row({
        name: 'SQLite deliveries/s',
        ours: lite.deliveriesPerSec,
        baseline: raw,
        baselineName: 'raw undici (ceiling)',
        unit: '/s',
        ratio: lite.deliveriesPerSec / raw,
        target: '≥ 0.5× raw undici',
        met: lite.deliveriesPerSec >= 0.5 * raw,
      }),
      ...emitLatencyRows('SQLite', lite),
    );
    if (pgOurs && boss) {
      rows.push(
        row({
          name: 'Postgres emits/s (16 callers)',
          ours: pgOurs.emitsPerSec,
          baseline: boss.emits,
          baselineName: 'pg-boss sends/s (BATCH=1000)',
          unit: '/s',
          ratio: pgOurs.emitsPerSec / boss.emits,
          target: '≥ 2× pg-boss',
          met: pgOurs.emitsPerSec >= 2 * boss.emits,
        }),
        row({
          name: 'Postgres deliveries/s',
          ours: pgOurs.deliveriesPerSec,
          baseline: boss.deliveries,
          baselineName: 'pg-boss deliveries/s (BATCH=1000)',
          unit: '/s',
          ratio: pgOurs.deliveriesPerSec / boss.deliveries,
          target: '≥ 1× pg-boss',
          met: pgOurs.deliveriesPerSec >= boss.deliveries,
        }),
        ...emitLatencyRows('Postgres', pgOurs),
      );
    }

    const small = 10_000;
    progress(`SQLite claim latency: ${small} vs ${bigBacklog} pending`);
    const liteSmall = await sqliteClaimLatency(dirs, small);
    const liteBig = await sqliteClaimLatency(dirs, bigBacklog);
    rows.push(claimLatencyRow('SQLite', { backlog: small, ms: liteSmall }, { backlog: bigBacklog, ms: liteBig }));
    if (server) {
      progress(`Postgres claim latency: ${small} vs ${bigBacklog} pending`);
      const pgSmall = await postgresClaimLatency(server.url, small);
      const pgBig = await postgresClaimLatency(server.url, bigBacklog);
      rows.push(claimLatencyRow('Postgres', { backlog: small, ms: pgSmall }, { backlog: bigBacklog, ms: pgBig }));
    }

    progress(`scheduler RSS through a ${rssBacklog} backlog (SQLite)`);
    const memory = await backlogMemory(dirs, rssBacklog);
    rows.push(
      row({
        name: `scheduler peak RSS, ${rssBacklog.toLocaleString('en-US')} backlog (SQLite)`,
        ours: memory.peak,
        baseline: memory.early,
        baselineName: 'peak RSS in the first 10% of the run',
        unit: 'MB',
        ratio: memory.early / memory.peak,
        lowerIsBetter: true,
        target: '< 300 MB',
        met: memory.peak < 300,
      }),
      // Flat: what the scheduler holds (RSS right after a full GC) does not grow with the work done.
      row({
        name: `scheduler RSS after a full GC, 90% through the ${rssBacklog.toLocaleString('en-US')} backlog`,
        ours: memory.settledLate,
        baseline: memory.settledEarly,
        baselineName: 'same, 10% through',
        unit: 'MB',
        ratio: memory.settledEarly / memory.settledLate,
        lowerIsBetter: true,
        target: 'flat (≤ 1.25×)',
        met: memory.settledEarly > 0 && memory.settledLate <= memory.settledEarly * 1.25,
      }),
    );
    return rows;
  } finally {
    await server?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const rows = await runStorageBench({ quick });
  const { renderTable } = await import('../index.js');
  process.stdout.write(`\n${renderTable(rows)}\n`);
}
