import { afterEach, expect, it } from 'vitest';
import { WebhookService } from '../../src/index.js';
import { createTestReceiver, type TestReceiver } from '../../src/testing/index.js';
import { openStorage, type StorageSpec } from '../sql/fixtures/storage-spec.js';
import { arrivals, inspect, spawnWorker, waitUntil, type WorkerProcess } from '../sql/support.js';
import { seededRandom } from './chaos-receiver.js';

const ORG = 'org_kill_loop';
const EVENTS = 500;
const KILLS = 5;
const CONCURRENCY = 8;

/**
 * `kill -9` at random moments, five times in a row: each process emits the same 500 events
 * (idempotency keys make a restarted emit loop pick up where the dead one stopped) and delivers
 * what is due. After the last restart every event is delivered; duplicates are bounded by the
 * attempts that were in flight when a kill landed (at most `concurrency` per kill).
 */
export function killLoopScenario(spec: () => StorageSpec): void {
  let receiver: TestReceiver | undefined;
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null) await w.kill();
    await receiver?.close();
  });

  it(`${KILLS} kills at random moments: every event delivered after the last restart, duplicates ≤ concurrency × kills`, async () => {
    const storageSpec = spec();
    const seed = Number(process.env.HOOKRELAY_KILL_SEED ?? Date.now() % 2 ** 31);
    const random = seededRandom(seed);
    receiver = await createTestReceiver();
    // Slow answers keep attempts in flight when a kill lands.
    receiver.setDefault({ kind: 'slow', ms: 50 });
    const storage = openStorage(storageSpec);
    await storage.migrate();
    const hooks = new WebhookService({ storage, eventTypes: ['order.created'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    await hooks.create(ORG, { url: receiver.url, events: ['order.created'] });
    await storage.close();

    const config = { storage: storageSpec, orgId: ORG, emit: EVENTS, lease: '2s', concurrency: CONCURRENCY, batchSize: 20 };
    const kills: { afterMs: number; emitted: number; received: number; leased: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const worker = spawnWorker(config);
      workers.push(worker);
      // Random moments inside the delivery work, not in the process's start-up: wait for this
      // process's first arrivals, then a random while longer.
      const before = receiver.requests.length;
      await waitUntil(() => receiver!.requests.length >= before + 5, 30_000, `process ${k + 1} to deliver`);
      const afterMs = Math.round(random() * 700);
      await new Promise((r) => setTimeout(r, afterMs));
      await worker.kill();
      const [row] = await inspect<{ leased: number | string }>(
        storageSpec,
        `SELECT count(*) AS leased FROM hookrelay_deliveries WHERE status = 'pending' AND lease_token IS NOT NULL`,
      );
      const emitted = Math.max(0, ...worker.lines.map((l) => (typeof l.emitted === 'number' ? l.emitted : 0)));
      kills.push({ afterMs, emitted, received: receiver.requests.length, leased: Number(row?.leased ?? 0) });
    }
    const context = `seed ${seed}, kills ${JSON.stringify(kills)}`;
    // The kills landed mid-run: emits and deliveries were still under way at the last one.
    expect(kills[KILLS - 1]!.received, context).toBeLessThan(EVENTS);

    const last = spawnWorker(config);
    workers.push(last);
    await last.waitFor((l) => l.emitted === EVENTS, 40_000);
    await waitUntil(
      async () => {
        const [row] = await inspect<{ open: number | string }>(storageSpec, `SELECT count(*) AS open FROM hookrelay_deliveries WHERE status <> 'succeeded'`);
        return Number(row?.open) === 0;
      },
      30_000,
      'every delivery to succeed after the last restart',
    );
    await last.stop();

    const events = await inspect<{ id: string; data: string }>(storageSpec, 'SELECT id, data FROM hookrelay_events');
    const [deliveryCount] = await inspect<{ n: number | string }>(storageSpec, 'SELECT count(*) AS n FROM hookrelay_deliveries');
    // Exactly one event per emitted number (restarted emit loops were deduplicated), one delivery each.
    expect(new Set(events.map((e) => (JSON.parse(e.data) as { n: number }).n)).size, context).toBe(EVENTS);
    expect(events).toHaveLength(EVENTS);
    expect(Number(deliveryCount?.n)).toBe(EVENTS);
    const seen = arrivals(receiver.requests);
    for (const e of events) expect(seen.get(e.id) ?? 0, `event ${e.id} never arrived (${context})`).toBeGreaterThanOrEqual(1);
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(duplicates, context).toBeLessThanOrEqual(CONCURRENCY * KILLS);
    expect(duplicates, context).toBeLessThanOrEqual(kills.reduce((sum, k) => sum + k.leased, 0));
    console.info(`[kill loop ${storageSpec.kind}] ${context}: ${EVENTS} events delivered, ${duplicates} duplicate arrivals`);
  }, 60_000);
}
