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
const sample = setInterval(() => samples.push({ at: delivered / count, rss: mb(process.memoryUsage().rss) }), 100);
const startRss = mb(process.memoryUsage().rss);
const t0 = performance.now();
hooks.start();
while (delivered < count) await new Promise((r) => setTimeout(r, 50));
const secs = (performance.now() - t0) / 1000;
clearInterval(sample);
await hooks.stop();
await storage.close();
const peak = Math.max(startRss, ...samples.map((s) => s.rss));
// "Flat": memory in the last tenth of the run against the first tenth.
const early = Math.max(startRss, ...samples.filter((s) => s.at <= 0.1).map((s) => s.rss));
const late = Math.max(...samples.filter((s) => s.at >= 0.9).map((s) => s.rss), 0);
process.stdout.write(`${JSON.stringify({ startRss, early, late, peak, secs, deliveriesPerSec: count / secs })}\n`);
process.exit(0);
