import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WAVES = 10;
const PER_WAVE = 10_000;
/** No wave starts after this, so a machine too slow for the full 100k fails clearly instead of hanging. */
const BUDGET_MS = 45_000;
/** Waves before the baseline sample: JIT, pools and caches settle. */
const WARM_UP_WAVES = 2;
const MIB = 2 ** 20;

interface WaveSample {
  wave: number;
  delivered: number;
  failed: number;
  pruned: number;
  rss: number;
  heapUsed: number;
  ms: number;
}

/**
 * Memory stays flat through 100k deliveries: a scheduler (memory storage, in a child process
 * with `--expose-gc`) works through waves of 10k deliveries to a loopback receiver, pruning
 * each wave once delivered. After warm-up, heap and RSS must not grow with the deliveries made.
 */
describe('memory: scheduler RSS through 100k deliveries', () => {
  let receiver: Server;
  let received = 0;
  let url: string;
  beforeAll(async () => {
    // A bare receiver: the test receiver keeps every request, which is the growth we look for.
    receiver = createServer((req, res) => {
      received++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('heap and RSS after warm-up do not grow with the number of deliveries', async () => {
    // V8 on Node 22 and later grows the young generation over the first waves (RSS +30 MiB on
    // Node 24, then flat, the heap unchanged); one fixed size makes RSS track what the scheduler
    // keeps, on every Node line.
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=16', '--import', 'tsx', 'test/faults/memory-worker.ts', url, String(WAVES), String(PER_WAVE), String(BUDGET_MS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const samples: WaveSample[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{')) samples.push(JSON.parse(line) as WaveSample);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr.slice(-2000)).toBe(0);

    const report = samples.map((s) => `wave ${s.wave}: ${(s.rss / MIB).toFixed(1)} MiB RSS, ${(s.heapUsed / MIB).toFixed(1)} MiB heap at ${s.ms} ms`).join('\n');
    // All of the 100k deliveries the issue asks for (about 13 s on the 2-core CI machine).
    expect(samples.length, report).toBe(WAVES);
    for (const s of samples) {
      expect(s.failed).toBe(0);
      expect(s.pruned).toBe(PER_WAVE);
      expect(s.delivered).toBe(s.wave * PER_WAVE);
    }
    expect(received).toBe(samples.length * PER_WAVE);

    const baseline = samples[WARM_UP_WAVES - 1]!;
    const last = samples[samples.length - 1]!;
    const deliveriesSince = last.delivered - baseline.delivered;
    const heapGrowth = last.heapUsed - baseline.heapUsed;
    const rssGrowth = last.rss - baseline.rss;
    // 4 MiB over ≥ 20k deliveries: a leak of 200 bytes per delivery would show (100k: 40 bytes).
    expect(heapGrowth, report).toBeLessThan(4 * MIB);
    expect(rssGrowth, report).toBeLessThan(24 * MIB);
    console.info(
      `[memory] ${last.delivered} deliveries in ${(last.ms / 1000).toFixed(1)} s (${Math.round(last.delivered / (last.ms / 1000))}/s); ` +
        `after warm-up: heap ${(heapGrowth / MIB).toFixed(2)} MiB, RSS ${(rssGrowth / MIB).toFixed(1)} MiB over ${deliveriesSince} deliveries ` +
        `(${(heapGrowth / deliveriesSince).toFixed(1)} heap bytes per delivery)\n${report}`,
    );
  }, 60_000);
});
