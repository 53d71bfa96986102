/**
 * Delivery throughput and latency. hookrelay on memory storage delivers to one endpoint served by a
 * receiver in another process; beside it, in the same run, raw undici POSTs signed bodies to the
 * same kind of receiver with the same number of requests in flight (the ceiling: no storage, no
 * retries). Also: emit latency, and emit→received latency on an idle system.
 *
 * Standalone: `npx tsx bench/delivery/index.ts [--quick]`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { WebhookService, memoryStorage } from '../../src/index.js';
import { type BenchOptions, type BenchRow, percentile } from '../bench-row.js';
import { PEERS, ensurePeersInstalled, startPeerReceiver } from '../peers.js';

/** Requests in flight, ours and raw undici's alike. */
const IN_FLIGHT = 32;


function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

function newService(perEndpoint: number): WebhookService {
  return new WebhookService({
    storage: memoryStorage(),
    eventTypes: ['execution.completed'],
    delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: 64, perEndpointConcurrency: perEndpoint },
  });
}

const payload = (i: number) => ({ executionId: `exec_${i}`, agentId: 'agt_ghi789', output: 'x'.repeat(200) });

/** Emits n events with the scheduler stopped, then times start() → the receiver has all n. */
async function ourThroughput(n: number): Promise<{ deliveriesPerSec: number; emitMs: number[] }> {
  const rx = await startPeerReceiver(n);
  const hooks = newService(IN_FLIGHT);
  try {
    await hooks.create('org_1', { url: `http://127.0.0.1:${await rx.port}/hook`, events: ['execution.completed'] });
    const emitMs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await hooks.emit('org_1', { type: 'execution.completed', data: payload(i) });
      emitMs.push(performance.now() - t0);
    }
    const t0 = performance.now();
    hooks.start();
    await rx.done;
    const secs = (performance.now() - t0) / 1000;
    return { deliveriesPerSec: n / secs, emitMs };
  } finally {
    await hooks.stop();
    rx.stop();
  }
}

async function rawUndici(n: number): Promise<number> {
  const out = execFileSync(process.execPath, [`${PEERS}/raw-undici.mjs`, String(n), String(IN_FLIGHT)], { encoding: 'utf8' });
  const line = out.trim().split('\n').pop() as string;
  return (JSON.parse(line) as { deliveries_per_s: number }).deliveries_per_s;
}

/**
 * The peer's raw undici loop run inside this (already warm) process: the peer script starts a
 * fresh, cold Node process, which flatters whoever runs warm. Same body, signature and in-flight count.
 */
async function rawUndiciWarm(n: number): Promise<number> {
  const rx = await startPeerReceiver(n);
  const pool = new Pool(`http://127.0.0.1:${await rx.port}`, { connections: IN_FLIGHT });
  const key = randomBytes(32);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const body = JSON.stringify({ id: `evt_${i}`, type: 'execution.completed', data: payload(i), createdAt: new Date().toISOString() });
      const ts = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', key).update(`evt_${i}.${ts}.${body}`).digest('base64');
      const res = await pool.request({
        path: '/hook',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': `evt_${i}`, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${signature}` },
        body,
      });
      await res.body.dump();
    }
  };
  try {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await rx.done;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    rx.stop();
    await pool.close();
  }
}

/** emit() → the receiver (another process) has read the body, one event at a time on an idle system. */
async function idleLatency(samples: number): Promise<number[]> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./stamp-receiver.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const arrivals = new Map<string, (at: number) => void>();
  let onPort: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (onPort = resolve));
  lines.on('line', (line) => {
    const [first, second] = line.split(' ');
    if (first === 'PORT') onPort(Number(second));
    else arrivals.get(first as string)?.(Number(second));
  });
  const hooks = newService(8);
  try {
    await hooks.create('org_1', { url: `http://127.0.0.1:${await port}/hook`, events: ['execution.completed'] });
    hooks.start();
    const latencies: number[] = [];
    for (let i = 0; i < samples + 5; i++) {
      await new Promise((r) => setTimeout(r, 10)); // idle: the loop is asleep when the emit comes
      const t0 = performance.timeOrigin + performance.now();
      let arrived: (at: number) => void = () => {};
      const received = new Promise<number>((resolve) => (arrived = resolve));
      const { event } = await hooks.emit('org_1', { type: 'execution.completed', data: payload(i) });
      arrivals.set(event.id, arrived);
      const at = await received;
      arrivals.delete(event.id);
      if (i >= 5) latencies.push(at - t0); // the first few warm up the connection and the JIT
    }
    return latencies.sort((a, b) => a - b);
  } finally {
    await hooks.stop();
    child.kill('SIGTERM');
  }
}

export async function runDeliveryBench(opts: BenchOptions): Promise<BenchRow[]> {
  const progress = opts.progress ?? (() => {});
  const n = opts.quick ? 2000 : 10_000;
  const rounds = opts.quick ? 1 : 5;
  progress('preparing peers');
  ensurePeersInstalled();

  const ours: number[] = [];
  const raw: number[] = [];
  const rawWarm: number[] = [];
  let emitMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first so drift on a shared machine hits both sides alike.
    const order = r % 2 === 0 ? ['raw', 'warm', 'ours'] : ['ours', 'warm', 'raw'];
    for (const side of order) {
      progress(`throughput round ${r + 1}/${rounds}: ${side}`);
      if (side === 'raw') raw.push(await rawUndici(n));
      else if (side === 'warm') rawWarm.push(await rawUndiciWarm(n));
      else {
        const result = await ourThroughput(n);
        ours.push(result.deliveriesPerSec);
        emitMs = result.emitMs;
      }
    }
  }
  progress('idle latency');
  const latency = await idleLatency(opts.quick ? 50 : 200);
  const sortedEmit = [...emitMs].sort((a, b) => a - b);

  const throughput = median(ours);
  const ceiling = median(raw);
  const ratio = throughput / ceiling;
  const warmCeiling = median(rawWarm);
  const row = (name: string, value: number, unit: string, extra: Partial<BenchRow> = {}): BenchRow => ({
    group: 'delivery',
    name,
    ours: value,
    baseline: null,
    baselineName: null,
    unit,
    ratio: null,
    ...extra,
  });
  const p50 = percentile(latency, 50);
  return [
    row(`throughput, ${n} events → 1 endpoint, ${IN_FLIGHT} in flight (memory storage)`, throughput, 'deliveries/s', {
      baseline: ceiling,
      baselineName: `raw undici, ${IN_FLIGHT} in flight`,
      ratio,
      target: '≥ 0.8× raw undici',
      met: ratio >= 0.8,
    }),
    row(`throughput, same, against raw undici run warm in this process`, throughput, 'deliveries/s', {
      baseline: warmCeiling,
      baselineName: `raw undici in-process, ${IN_FLIGHT} in flight`,
      ratio: throughput / warmCeiling,
    }),
    row('emit p50 (memory storage, 1 endpoint)', percentile(sortedEmit, 50), 'ms', { lowerIsBetter: true }),
    row('emit p99 (memory storage, 1 endpoint)', percentile(sortedEmit, 99), 'ms', { lowerIsBetter: true }),
    row('idle emit → received p50', p50, 'ms', { lowerIsBetter: true, target: '< 5 ms', met: p50 < 5 }),
    row('idle emit → received p99', percentile(latency, 99), 'ms', { lowerIsBetter: true }),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const rows = await runDeliveryBench({ quick, progress: (line) => process.stderr.write(`\r\x1b[K${line}`) });
  process.stderr.write('\n');
  const { renderTable } = await import('../index.js');
  process.stdout.write(`${renderTable(rows)}\n`);
}
