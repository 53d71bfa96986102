/**
 * `npm run soak -- --minutes N [--rate 50] [--storage sqlite|memory] [--seed S]`: emits events at a
 * steady rate to endpoints on a chaos receiver (500s, 429s with Retry-After, hangs past the
 * timeout, resets, slow answers) for N minutes, printing delivered / failed / in-flight / lost
 * every 5 seconds, then drains the backlog and exits. "Lost" is an acknowledged delivery missing
 * from storage, or still unfinished once nothing has finished for 30 s after the last emit.
 * Exit code 1 when anything was lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { memoryStorage, type Storage, WebhookService } from '../../src/index.js';
import { createChaosReceiver } from '../../test/faults/chaos-receiver.js';

const ORG = 'org_soak';
const ENDPOINTS = 4;
const REPORT_EVERY_MS = 5_000;
const TIMEOUT_MS = 1_000;
const LEASE_MS = 10_000;
const SCHEDULE = ['50ms', '200ms', '1s'];
/** Open deliveries older than this are looked up in storage (at most AUDIT_BATCH per report). */
const AUDIT_AFTER_MS = 30_000;
const AUDIT_BATCH = 200;
/** After the last emit: a delivery still open once nothing has finished for this long is stuck, so lost. */
const STALL_MS = 30_000;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    rate: { type: 'string', default: '50' },
    storage: { type: 'string', default: 'sqlite' },
    seed: { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
if (!(minutes > 0) || !(rate > 0) || (values.storage !== 'sqlite' && values.storage !== 'memory')) {
  process.stderr.write('usage: npm run soak -- --minutes N [--rate events/s] [--storage sqlite|memory] [--seed S]\n');
  process.exit(2);
}
const seed = Number(values.seed ?? Date.now() % 2 ** 31);

const dir = values.storage === 'sqlite' ? mkdtempSync(join(tmpdir(), 'hookrelay-soak-')) : null;
const storage: Storage = dir ? sqliteStorage({ filename: join(dir, 'soak.db') }) : memoryStorage();
const receiver = await createChaosReceiver({ seed, slowMs: 100, retryAfter: '1', keepLog: false });
const hooks = new WebhookService({
  storage,
  eventTypes: ['soak.tick'],
  delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: TIMEOUT_MS, lease: LEASE_MS, pollInterval: '200ms' },
  retry: { schedule: SCHEDULE, maxRetryAfter: '500ms' },
});
await hooks.migrate();
for (let i = 0; i < ENDPOINTS; i++) await hooks.create(ORG, { url: `${receiver.origin}/e/${i}`, events: ['soak.tick'] });

/** Acknowledged deliveries not yet finished: id → when emit returned. */
const open = new Map<string, number>();
let emitted = 0;
let delivered = 0;
let failed = 0;
let lost = 0;
let emitErrors = 0;
let engineErrors = 0;
let pauses = 0;
const lostIds = new Set<string>();

const finish = (id: string): void => {
  open.delete(id);
};
hooks.on('success', ({ delivery }) => {
  delivered++;
  finish(delivery.id);
});
hooks.on('exhausted', ({ delivery }) => {
  failed++;
  finish(delivery.id);
});
// An exhausted delivery pauses its endpoint; this host resumes it at once (held deliveries go out again).
hooks.on('endpointPaused', ({ endpoint }) => {
  pauses++;
  void hooks.update(ORG, endpoint.id, { status: 'active' }).catch(() => {
    engineErrors++;
  });
});
hooks.on('error', ({ error, during }) => {
  engineErrors++;
  process.stderr.write(`engine error during ${during}: ${error instanceof Error ? error.message : String(error)}\n`);
});

/** Deliveries open for longer than AUDIT_AFTER_MS must still be in storage; a missing one is lost. */
async function auditOldest(now: number): Promise<void> {
  let checked = 0;
  for (const [id, since] of open) {
    if (now - since < AUDIT_AFTER_MS || checked >= AUDIT_BATCH) break; // Map order is emit order
    if (lostIds.has(id)) continue;
    checked++;
    const delivery = await hooks.getDelivery(ORG, id).catch(() => null);
    if (!delivery) markLost(id, 'missing from storage');
    else if (delivery.status === 'succeeded' || delivery.status === 'failed') open.delete(id);
  }
}

function markLost(id: string, why: string): void {
  lostIds.add(id);
  lost++;
  process.stderr.write(`LOST ${id}: ${why}\n`);
}

const started = Date.now();
const line = (label: string): void => {
  const secs = Math.round((Date.now() - started) / 1000);
  const c = receiver.counts;
  process.stdout.write(
    `[${label} ${secs}s] emitted ${emitted} · delivered ${delivered} · failed ${failed} · open ${open.size} · lost ${lost}` +
      ` | receiver ok ${c.ok + c.slow}, 500 ${c.error500}, 429 ${c.retryAfter429}, hang ${c.hang}, reset ${c.reset} | pauses ${pauses}, emit errors ${emitErrors}, engine errors ${engineErrors}\n`,
  );
};

process.stdout.write(`soak: ${minutes} min, ${rate} events/s × ${ENDPOINTS} endpoints, ${values.storage} storage, chaos seed ${seed}\n`);
hooks.start();
const reporter = setInterval(() => {
  void auditOldest(Date.now()).then(() => line('soak'));
}, REPORT_EVERY_MS);
const pruner = setInterval(() => void hooks.prune({ olderThan: '1m' }).catch(() => undefined), 60_000);

const endAt = started + minutes * 60_000;
const intervalMs = 1000 / rate;
let next = performance.now();
while (Date.now() < endAt) {
  try {
    const { deliveries } = await hooks.emit(ORG, { type: 'soak.tick', data: { n: emitted } });
    const at = Date.now();
    for (const d of deliveries) open.set(d.id, at);
    emitted++;
  } catch (error) {
    emitErrors++;
    process.stderr.write(`emit failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  next += intervalMs;
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

// Drain: no new events; everything acknowledged must finish, however long the backlog takes,
// as long as deliveries keep finishing.
let finishedBefore = delivered + failed;
let progressAt = Date.now();
while (open.size > lostIds.size && Date.now() - progressAt < STALL_MS) {
  await new Promise((r) => setTimeout(r, 200));
  if (delivered + failed !== finishedBefore) {
    finishedBefore = delivered + failed;
    progressAt = Date.now();
  }
}
clearInterval(reporter);
clearInterval(pruner);
for (const [id] of open) if (!lostIds.has(id)) markLost(id, `still ${STALL_MS / 1000}s after the last delivery finished`);
line('done');
await hooks.stop();
await storage.close();
await receiver.close();
if (dir) rmSync(dir, { recursive: true, force: true });
process.stdout.write(lost === 0 ? `OK: ${emitted * ENDPOINTS} deliveries, none lost.\n` : `FAILED: ${lost} deliveries lost (seed ${seed}).\n`);
process.exit(lost === 0 ? 0 : 1);
