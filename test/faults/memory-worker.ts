/**
 * The scheduler under test for `memory.test.ts`, in a process of its own so its RSS is its alone:
 * `node --expose-gc --import tsx test/faults/memory-worker.ts <receiver url> <waves> <per wave> <budget ms>`.
 * Each wave emits `per wave` events, waits until all are delivered, prunes them, collects garbage
 * and prints `{"wave":n,"delivered":…,"rss":…,"heapUsed":…,"ms":…}`. No wave starts after the
 * budget is spent, so a slow machine runs fewer waves instead of running long.
 */
import { memoryStorage, WebhookService } from '../../src/index.js';

const [url, wavesArg, perWaveArg, budgetArg] = process.argv.slice(2);
const budgetMs = Number(budgetArg ?? Infinity);
const waves = Number(wavesArg);
const perWave = Number(perWaveArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!url || !gc || !(waves > 0) || !(perWave > 0)) {
  process.stderr.write('usage: node --expose-gc --import tsx test/faults/memory-worker.ts <url> <waves> <per wave> [budget ms]\n');
  process.exit(2);
}

const storage = memoryStorage();
const hooks = new WebhookService({
  storage,
  eventTypes: ['order.created'],
  delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: 64, perEndpointConcurrency: 64, batchSize: 200 },
});
await hooks.create('org_memory', { url, events: ['order.created'] });
let delivered = 0;
let failed = 0;
hooks.on('success', () => {
  delivered++;
});
hooks.on('failure', () => {
  failed++;
});
hooks.start();
const started = performance.now();
for (let wave = 1; wave <= waves && performance.now() - started < budgetMs; wave++) {
  for (let i = 0; i < perWave; i++) await hooks.emit('org_memory', { type: 'order.created', data: { wave, i, note: 'x'.repeat(64) } });
  while (delivered < wave * perWave) await new Promise((r) => setTimeout(r, 20));
  const pruned = await hooks.prune({ olderThan: new Date(Date.now() + 1000) });
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ wave, delivered, failed, pruned: pruned.deliveries, rss, heapUsed, ms: Math.round(performance.now() - started) })}\n`);
}
await hooks.stop();
await storage.close();
process.exit(0);
