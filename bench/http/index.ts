/**
 * Requests per second through the Express router and the Fastify plugin beside a bare route of
 * the same framework making the same service call (`service.get`, `service.create`), measured
 * with autocannon in the same run; "ceiling" rows put that bare route beside one that only
 * returns the same JSON. The
 * servers run in a child process; autocannon runs here. Rounds alternate which side goes first
 * and each figure is the median of its rounds, so drift hits both sides alike.
 *
 * Two figures per case. Wall clock: requests/s as autocannon saw them. Per server CPU-second:
 * requests divided by the CPU time the server's event-loop thread used meanwhile, i.e. the req/s
 * a saturated server sustains. On a shared machine the wall-clock figure mostly measures the
 * neighbours; the CPU-normalised one is what the target is judged on.
 *
 * Standalone: `npx tsx bench/http/index.ts [--quick] [--calibrate <µs>]`.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchRow } from '../bench-row.js';
import { CREATE_BODY, TOKEN } from './constants.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  method: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  body?: string;
}) => Promise<AutocannonResult>;

// autocannon ships no types; this is the part of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const TARGET = 0.9;
const CONNECTIONS = 10;

type Side = 'Ours' | 'Bare' | 'Work' | 'Busy';
type Framework = 'express' | 'fastify';
type Ports = Partial<Record<Side, number>>;

interface Servers {
  ports: Ports;
  endpointId: string;
  reset(): Promise<void>;
  cpuMicros(): Promise<number>;
  stop(): void;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestModification(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds dist/ (`npm run build`) when it is missing or older than a source file. */
function ensureBuilt(progress?: (line: string) => void): void {
  const built = join(ROOT, 'dist', 'fastify.js');
  const sources = Math.max(newestModification(join(ROOT, 'src')), newestModification(join(ROOT, 'adapters')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  progress?.('building dist/ (npm run build)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status}); the HTTP bench runs the built package`);
}

/** One child process per framework, so neither's JIT state or heap affects the other's figures. */
async function startServers(framework: Framework, busyMicros: number): Promise<Servers> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), [framework], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: {
      ...process.env,
      // Without the root tsconfig's `paths`, `hookrelay/...` resolves to dist/, as in a host.
      TSX_TSCONFIG_PATH: fileURLToPath(new URL('./tsconfig.package.json', import.meta.url)),
      HOOKRELAY_BENCH_BUSY_US: String(busyMicros),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ ports: Ports; endpointId: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { ports: Ports; endpointId: string }));
    child.once('exit', (code) => reject(new Error(`bench servers exited with code ${code}`)));
  });
  const ask = <T>(command: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (message) => resolve(message as T));
      child.send(command);
    });
  return {
    ...ready,
    reset: async () => {
      await ask('reset');
    },
    cpuMicros: async () => (await ask<{ cpuMicros: number }>('cpu')).cpuMicros,
    stop: () => child.kill(),
  };
}

interface Case {
  method: 'GET' | 'POST';
  path: string;
  label: string;
  /** The server measured against the baseline; hookrelay's own unless calibrating. */
  side?: Side;
  baseline: Side;
  baselineName: string;
  target: number | undefined;
}

interface Measured {
  wallClock: number;
  perCpuSecond: number;
}

async function measure(servers: Servers, url: string, method: 'GET' | 'POST', seconds: number): Promise<Measured> {
  const cpuBefore = await servers.cpuMicros();
  const result = await autocannon({
    url,
    method,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: TOKEN, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: CREATE_BODY } : {}),
  });
  const cpuSeconds = ((await servers.cpuMicros()) - cpuBefore) / 1e6;
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(`${method} ${url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { wallClock: result.requests.average, perCpuSecond: result.requests.total / cpuSeconds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Rows per framework and route, ratio = ours / the baseline route of the same framework.
 * `calibrateMicros` adds a row that is not hookrelay: a bare POST route spending that many
 * microseconds of CPU before answering, beside the bare route, to show what a ratio target
 * leaves for a route's own work on this machine.
 */
export async function runHttpBench(opts: BenchOptions & { calibrateMicros?: number }): Promise<BenchRow[]> {
  const calibrate = opts.calibrateMicros ?? 0;
  const rounds = opts.quick ? 1 : 3;
  const seconds = opts.quick ? 2 : 5;
  const warmSeconds = opts.quick ? 2 : 4;
  const rows: BenchRow[] = [];
  ensureBuilt(opts.progress);
  for (const framework of ['express', 'fastify'] as const) {
    const servers = await startServers(framework, calibrate);
    try {
      const port = (side: Side): number => {
        const found = servers.ports[side];
        if (found === undefined) throw new Error(`no ${side} server was started`);
        return found;
      };
      const cases = [
        { method: 'GET', path: `/v1/webhooks/${servers.endpointId}`, label: 'GET /webhooks/:id', baseline: 'Work', baselineName: `bare ${framework} route + service.get`, target: TARGET },
        { method: 'POST', path: '/v1/webhooks', label: 'POST /webhooks', baseline: 'Work', baselineName: `bare ${framework} route + service.create`, target: TARGET },
        // Not hookrelay's HTTP layer: the bare route making the service call, against one only
        // returning the same JSON. It shows what the call itself costs on this machine.
        { method: 'GET', path: `/v1/webhooks/${servers.endpointId}`, label: 'GET /webhooks/:id, ceiling (not the adapter): bare route + service.get', side: 'Work', baseline: 'Bare', baselineName: `bare ${framework} route`, target: undefined },
        { method: 'POST', path: '/v1/webhooks', label: 'POST /webhooks, ceiling (not the adapter): bare route + service.create', side: 'Work', baseline: 'Bare', baselineName: `bare ${framework} route`, target: undefined },
      ] as Case[];
      if (calibrate > 0) {
        cases.push({ method: 'POST', path: '/v1/webhooks', label: `POST /webhooks, calibration (not hookrelay): bare route + ${calibrate} µs of CPU`, side: 'Busy', baseline: 'Bare', baselineName: `bare ${framework} route`, target: undefined });
      }
      // Warm every route before measuring any: JIT compilation runs on background threads that
      // count as server CPU time, and would otherwise land on whichever case runs first.
      for (const c of cases) {
        for (const side of [c.side ?? 'Ours', c.baseline]) {
          opts.progress?.(`${framework} ${c.label} (warm-up)`);
          await servers.reset();
          await measure(servers, `http://127.0.0.1:${port(side)}${c.path}`, c.method, warmSeconds);
        }
      }
      for (const c of cases) {
        const run = async (side: Side): Promise<Measured> => {
          await servers.reset();
          return measure(servers, `http://127.0.0.1:${port(side)}${c.path}`, c.method, seconds);
        };
        const ours: Measured[] = [];
        const base: Measured[] = [];
        for (let round = 0; round < rounds; round++) {
          opts.progress?.(`${framework} ${c.label} (round ${round + 1}/${rounds})`);
          if (round % 2 === 0) {
            ours.push(await run(c.side ?? 'Ours'));
            base.push(await run(c.baseline));
          } else {
            base.push(await run(c.baseline));
            ours.push(await run(c.side ?? 'Ours'));
          }
        }
        for (const figure of ['perCpuSecond', 'wallClock'] as const) {
          const o = median(ours.map((m) => m[figure]));
          const b = median(base.map((m) => m[figure]));
          // Targets are judged on the CPU-normalised figure only.
          const target = figure === 'perCpuSecond' ? c.target : undefined;
          rows.push({
            group: 'http',
            name: `${framework} ${c.label}, ${figure === 'perCpuSecond' ? 'per server CPU-second' : 'wall clock'}`,
            ours: Math.round(o),
            baseline: Math.round(b),
            baselineName: c.baselineName,
            unit: 'req/s',
            ratio: Math.round((o / b) * 100) / 100,
            ...(target !== undefined ? { target: `≥ ${target}× ${c.baselineName}`, met: o / b >= target } : {}),
          });
        }
      }
    } finally {
      servers.stop();
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { renderTable } = await import('../index.js');
  const quick = process.argv.includes('--quick');
  const at = process.argv.indexOf('--calibrate');
  const calibrateMicros = at === -1 ? 0 : Number(process.argv[at + 1]);
  if (!(calibrateMicros >= 0 && calibrateMicros <= 1000)) throw new Error('usage: --calibrate <microseconds, 0–1000>');
  const rows = await runHttpBench({ quick, calibrateMicros, progress: (line) => process.stderr.write(`\r\x1b[K${line}`) });
  process.stderr.write('\r\x1b[K');
  process.stdout.write(`${renderTable(rows)}\n`);
}
