import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import { percentile } from '../bench-row.js';
import { startPeerReceiver } from '../peers.js';

/** Emitting callers, as in the pg-boss peer. */
export const CALLERS = 16;
/** Requests in flight, ours and the peers' alike. */
export const IN_FLIGHT = 32;


const payload = (i: number) => ({ executionId: `exec_${i}`, agentId: 'agt_ghi789', output: 'x'.repeat(200) });

/**
 * The pg-boss peer's shape: emit n events from 16 concurrent callers with the scheduler
 * stopped (emits/s), then start it and time until a receiver in another process has all n
 * (deliveries/s).
 */
export interface ThroughputResult {
  emitsPerSec: number;
  deliveriesPerSec: number;
  /** How long one `emit` took while 16 callers were emitting, in ms. */
  emitP50Ms: number;
  emitP99Ms: number;
}

export async function measureThroughput(storage: SqlStorage, n: number): Promise<ThroughputResult> {
  await storage.migrate();
  const rx = await startPeerReceiver(n);
  const hooks = new WebhookService({
    storage,
    eventTypes: ['execution.completed'],
    delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: IN_FLIGHT * 2, perEndpointConcurrency: IN_FLIGHT, batchSize: 200 },
  });
  try {
    await hooks.create('org_1', { url: `http://127.0.0.1:${await rx.port}/hook`, events: ['execution.completed'] });
    let next = 0;
    const emitMs: number[] = [];
    const caller = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        const started = performance.now();
        await hooks.emit('org_1', { type: 'execution.completed', data: payload(i) });
        emitMs.push(performance.now() - started);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CALLERS }, caller));
    const emitSecs = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    hooks.start();
    await rx.done;
    const deliverSecs = (performance.now() - t1) / 1000;
    emitMs.sort((a, b) => a - b);
    return { emitsPerSec: n / emitSecs, deliveriesPerSec: n / deliverSecs, emitP50Ms: percentile(emitMs, 50), emitP99Ms: percentile(emitMs, 99) };
  } finally {
    await hooks.stop();
    rx.stop();
    await storage.close();
  }
}
