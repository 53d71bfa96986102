/**
 * Works through a prefilled SQLite backlog with the real scheduler and reports its memory:
 * `npx tsx bench/storage/rss-worker.ts <file> <count>`. Run in its own process so the figure is
 * the scheduler's alone. Prints one JSON line.
 */
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { WebhookService } from '../../src/index.js';

const [filename, countArg] = process.argv.slice(2);
const count = Number(countArg);
const storage = sqliteStorage({ filename: filename as string });
const hooks = new WebhookService({
  storage,
  eventTypes: ['execution.completed'],
  delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: 64, perEndpointConcurrency: 32, batchSize: 200 },
});
let delivered = 0;
hooks.on('success', () => {
  delivered++;
});
const mb = (bytes: number) => bytes / 2 ** 20;
const samples: { at: number; rss: number }[] = [];
/**
 * RSS right after a full collection, 10% and 90% of the way through: what the scheduler holds,
 * without the garbage V8 lets pile up between collections (its heap grows with the allocation
 * rate, which is no leak). Needs --expose-gc; two collections barely touch the peak.
 */
const settled: { early?: number; late?: number } = {};
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('rss-worker needs --expose-gc');
const settledRss = (): number => {
  gc();
  return mb(process.memoryUsage().rss);
};
const sample = setInterval(() => {
  const at = delivered / count;
  if (settled.early === undefined && at >= 0.1) settled.early = settledRss();
  if (settled.late === undefined && at >= 0.9) settled.late = settledRss();
  samples.push({ at, rss: mb(process.memoryUsage().rss) });
}, 100);
const startRss = mb(process.memoryUsage().rss);
const t0 = performance.now();
hooks.start();
while (delivered < count) await new Promise((r) => setTimeout(r, 50));
const secs = (performance.now() - t0) / 1000;
clearInterval(sample);
await hooks.stop();
await storage.close();
const peak = Math.max(startRss, ...samples.map((s) => s.rss));
// The peak of the first tenth of the run, beside the whole run's.
const early = Math.max(startRss, ...samples.filter((s) => s.at <= 0.1).map((s) => s.rss));
process.stdout.write(
  `${JSON.stringify({ startRss, early, peak, settledEarly: settled.early ?? 0, settledLate: settled.late ?? 0, secs, deliveriesPerSec: count / secs })}\n`,
);
process.exit(0);
