import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookService } from '../../src/index.js';
import { createTestReceiver, type TestReceiver } from '../../src/testing/index.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';
import { openStorage, type StorageSpec } from './fixtures/storage-spec.js';
import { arrivals, inspect, spawnWorker, waitUntil, type WorkerProcess } from './support.js';

const ORG = 'org_crash';
const EVENTS = 150;

/**
 * Events survive a `kill -9` at any moment (issue 5): a host process emits and delivers to a
 * real receiver and is killed mid-run; a new process on the same database delivers every
 * remaining event. At-least-once: duplicates are bounded by what the dead process had leased.
 */
function crashScenario(spec: () => StorageSpec): void {
  let receiver: TestReceiver | undefined;
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    for (const w of workers.splice(0)) if (w.child.exitCode === null) await w.kill();
    await receiver?.close();
  });

  it('a process killed with SIGKILL mid-run loses nothing; a new process delivers the rest', async () => {
    const storageSpec = spec();
    receiver = await createTestReceiver();
    // Slow answers keep several attempts in flight when the kill lands.
    receiver.setDefault({ kind: 'slow', ms: 25 });
    const storage = openStorage(storageSpec);
    await storage.migrate();
    const hooks = new WebhookService({ storage, eventTypes: ['order.created'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    await hooks.create(ORG, { url: receiver.url, events: ['order.created'] });
    await storage.close();

    const first = spawnWorker({ storage: storageSpec, orgId: ORG, emit: EVENTS, lease: '4s', emitDelayMs: 5 });
    workers.push(first);
    await first.waitFor((l) => typeof l.emitted === 'number' && l.emitted >= 60);
    await receiver.waitFor(10, 20_000);
    await first.kill();

    const emittedBeforeCrash = Math.max(0, ...first.lines.map((l) => (typeof l.emitted === 'number' ? l.emitted : 0)));
    const [{ leased }] = await inspect<{ leased: number | string }>(
      storageSpec,
      `SELECT count(*) AS leased FROM hookrelay_deliveries WHERE status = 'pending' AND lease_token IS NOT NULL`,
    ) as [{ leased: number | string }];
    const receivedBeforeRestart = receiver.requests.length;
    // The kill landed mid-run: deliveries were still outstanding for the next process.
    const [{ open: openAtCrash }] = (await inspect<{ open: number | string }>(
      storageSpec,
      `SELECT count(*) AS open FROM hookrelay_deliveries WHERE status <> 'succeeded'`,
    )) as [{ open: number | string }];
    expect(Number(openAtCrash)).toBeGreaterThan(0);

    const second = spawnWorker({ storage: storageSpec, orgId: ORG, emit: 0, lease: '4s' });
    workers.push(second);
    await waitUntil(
      async () => {
        const [row] = await inspect<{ open: number | string }>(storageSpec, `SELECT count(*) AS open FROM hookrelay_deliveries WHERE status <> 'succeeded'`);
        return Number(row?.open) === 0;
      },
      30_000,
      'every delivery to succeed after the restart',
    );
    await second.stop();

    const events = await inspect<{ id: string; data: string }>(storageSpec, 'SELECT id, data FROM hookrelay_events');
    // Every emit that returned before the kill is durable…
    const numbers = new Set(events.map((e) => (JSON.parse(e.data) as { n: number }).n));
    for (let n = 0; n < emittedBeforeCrash; n++) expect(numbers.has(n), `event #${n} was acknowledged, then lost`).toBe(true);
    // …and delivered at least once.
    const seen = arrivals(receiver.requests);
    for (const e of events) expect(seen.get(e.id) ?? 0, `event ${e.id} never arrived`).toBeGreaterThanOrEqual(1);
    // Duplicates come from what the dead process had leased (sent, not yet recorded), plus any
    // attempt that failed (a timeout on a loaded machine) and was retried.
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    const failures = [first, second].reduce((sum, w) => sum + w.lines.filter((l) => typeof l.failure === 'number').length, 0);
    expect(duplicates).toBeLessThanOrEqual(Number(leased) + failures);
    expect(receiver.requests.length).toBeGreaterThan(receivedBeforeRestart);
  }, 60_000);
}

describe('crash recovery: SQLite', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  crashScenario(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-crash-'));
    return { kind: 'sqlite', filename: join(dir, 'webhooks.db') };
  });
});

describePostgres('crash recovery: Postgres', (url) => {
  const schema = testSchema('crash');
  afterEach(() => dropSchema(url, schema));
  crashScenario(() => ({ kind: 'postgres', url, schema }));
});
