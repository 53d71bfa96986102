import type { Attempt, WebhookService } from 'hookrelay';

interface EndpointProgress {
  name: string;
  emitted: number;
  delivered: Set<string>;
  retrying: Set<string>;
  /** Kept while the endpoint is paused; delivered once it is resumed. */
  held: Set<string>;
  failed: Set<string>;
  attempts: number;
  failedAttempts: number;
  attemptMs: number[];
  /** Emit to 2xx, per delivered delivery. */
  endToEndMs: number[];
  lastAttempt: string;
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

const describeAttempt = (attempt: Attempt): string =>
  `#${attempt.attemptNumber} ${attempt.statusCode ?? attempt.errorKind ?? '?'} in ${attempt.durationMs}ms`;

/**
 * Follows the delivery engine through `hooks.on(…)` and draws it: a live table redrawn in place
 * on a terminal, one line a second otherwise (CI logs, pipes).
 */
export class Progress {
  private readonly endpoints = new Map<string, EndpointProgress>();
  private readonly live = process.stdout.isTTY === true;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(hooks: WebhookService) {
    hooks.on('attempt', ({ attempt, delivery }) => {
      const p = this.endpoints.get(delivery.endpointId);
      if (!p) return;
      p.attempts++;
      p.attemptMs.push(attempt.durationMs);
      p.lastAttempt = describeAttempt(attempt);
    });
    hooks.on('success', ({ delivery }) => {
      const p = this.endpoints.get(delivery.endpointId);
      if (!p) return;
      p.retrying.delete(delivery.id);
      p.held.delete(delivery.id);
      p.failed.delete(delivery.id);
      p.delivered.add(delivery.id);
      p.endToEndMs.push((delivery.completedAt ?? new Date()).getTime() - delivery.createdAt.getTime());
    });
    hooks.on('failure', ({ delivery, nextAttemptAt }) => {
      const p = this.endpoints.get(delivery.endpointId);
      if (!p) return;
      p.failedAttempts++;
      if (nextAttemptAt) p.retrying.add(delivery.id);
      else p.retrying.delete(delivery.id);
    });
    hooks.on('exhausted', ({ delivery }) => {
      const p = this.endpoints.get(delivery.endpointId);
      if (!p) return;
      p.retrying.delete(delivery.id);
      p.failed.add(delivery.id);
    });
    // A paused endpoint's pending deliveries are held, not dropped.
    hooks.on('endpointPaused', ({ endpoint }) => {
      const p = this.endpoints.get(endpoint.id);
      if (!p) return;
      for (const id of p.retrying) p.held.add(id);
      p.retrying.clear();
    });
  }

  track(endpointId: string, name: string): void {
    this.endpoints.set(endpointId, {
      name,
      emitted: 0,
      delivered: new Set(),
      retrying: new Set(),
      held: new Set(),
      failed: new Set(),
      attempts: 0,
      failedAttempts: 0,
      attemptMs: [],
      endToEndMs: [],
      lastAttempt: '-',
    });
  }

  emitted(endpointIds: readonly string[]): void {
    for (const id of endpointIds) {
      const p = this.endpoints.get(id);
      if (p) p.emitted++;
    }
  }

  /** The endpoint was resumed: its held deliveries are due again. */
  resumed(endpointId: string): void {
    const p = this.endpoints.get(endpointId);
    if (!p) return;
    for (const id of p.held) p.retrying.add(id);
    p.held.clear();
  }

  /** A delivery that exhausted its schedule is being retried by hand. */
  retriedByHand(endpointId: string, deliveryId: string): void {
    const p = this.endpoints.get(endpointId);
    if (!p) return;
    p.failed.delete(deliveryId);
    p.retrying.add(deliveryId);
  }

  /** Prints a line above the live table (or plainly, without a terminal). */
  log(line: string): void {
    this.erase();
    console.log(line);
    this.draw();
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => (this.live ? this.redraw() : console.log(this.oneLine())), this.live ? 150 : 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.live) this.redraw();
    else console.log(this.oneLine());
  }

  /** Rows for the closing summary table. */
  summary(): Record<string, string | number>[] {
    return [...this.endpoints.values()].map((p) => ({
      endpoint: p.name,
      events: p.emitted,
      delivered: p.delivered.size,
      failed: p.failed.size,
      attempts: p.attempts,
      'failed attempts': p.failedAttempts,
      'attempt p50 ms': percentile(p.attemptMs, 50),
      'attempt p95 ms': percentile(p.attemptMs, 95),
      'emit→2xx p50 ms': percentile(p.endToEndMs, 50),
      'emit→2xx max ms': percentile(p.endToEndMs, 100),
    }));
  }

  private rows(): string[] {
    const header = `  ${'endpoint'.padEnd(9)} ${'delivered'.padStart(10)} ${'retrying'.padStart(9)} ${'held'.padStart(5)} ${'failed'.padStart(7)} ${'attempts'.padStart(9)}   last attempt`;
    const lines = [...this.endpoints.values()].map(
      (p) =>
        `  ${p.name.padEnd(9)} ${`${p.delivered.size}/${p.emitted}`.padStart(10)} ${String(p.retrying.size).padStart(9)} ${String(p.held.size).padStart(5)} ${String(p.failed.size).padStart(7)} ${String(p.attempts).padStart(9)}   ${p.lastAttempt}`,
    );
    return [header, ...lines];
  }

  private oneLine(): string {
    return `progress: ${[...this.endpoints.values()]
      .map((p) => `${p.name} delivered ${p.delivered.size}/${p.emitted}, retrying ${p.retrying.size}, held ${p.held.size}, failed ${p.failed.size}`)
      .join(' | ')}`;
  }

  private draw(): void {
    if (!this.live) return;
    const rows = this.rows();
    process.stdout.write(`${rows.join('\n')}\n`);
    this.drawnLines = rows.length;
  }

  private erase(): void {
    if (!this.live || this.drawnLines === 0) return;
    process.stdout.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }

  private redraw(): void {
    this.erase();
    this.draw();
  }
}
