import type { Clock } from '../clock.js';
import { newUlid } from '../ids.js';
import type { Logger } from '../logger.js';
import type { ClaimedDelivery, Storage } from '../storage/storage.js';
import type { RunOutcome } from './attempt-runner.js';
import type { DeliveryEmitter } from './delivery-events.js';

export interface SchedulerOptions {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  events: DeliveryEmitter;
  /** Sends one claimed delivery and records it. */
  run: (claimed: ClaimedDelivery) => Promise<RunOutcome>;
  concurrency: number;
  perEndpointConcurrency: number;
  batchSize: number;
  leaseMs: number;
  timeoutMs: number;
  pollIntervalMs: number;
  retention: { maxAgeMs: number; intervalMs: number } | null;
}

interface Queued {
  claimed: ClaimedDelivery;
  /** Clock time of the claim: the lease runs out at claimedAt + leaseMs. */
  claimedAt: number;
}

/** A queued delivery is sent only if its attempt can finish (timeout) inside its lease, with this margin at most. */
const LEASE_SAFETY_MS = 1_000;

/**
 * The delivery loop. It claims due deliveries in batches into a local queue and sends them with at
 * most `concurrency` attempts in flight, `perEndpointConcurrency` per endpoint (limits of this
 * process; with several processes on one database each applies its own). It sleeps until woken
 * (`wake()` on emit, `storage.subscribe` notifications), until the next delivery is due, or at
 * most `pollIntervalMs`. `stop()` stops claiming, gives back what it had queued, and waits for the
 * attempts in flight to be recorded.
 */
export class DeliveryScheduler {
  private running = false;
  private stopping = false;
  private loopDone: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private pruning: Promise<void> | null = null;

  /** Something may be due that has not been claimed yet. */
  private mightHaveDue = true;
  /** The last claim skipped busy endpoints and found nothing else: what is due is theirs. */
  private onlyBusyWorkDue = false;
  private signaled = false;
  private wakeLoop: (() => void) | null = null;
  /**
   * Clock time the sleeping loop will wake at on its own. +Infinity while it is awake: it may be
   * about to sleep on a due time read before a retry was written, so any retry must signal it.
   */
  private sleepingUntil = Number.POSITIVE_INFINITY;

  /** endpoint id → claimed deliveries waiting for a slot; Map order is the round-robin order. */
  private readonly queues = new Map<string, Queued[]>();
  private queued = 0;
  private inFlight = 0;
  private readonly inFlightByEndpoint = new Map<string, number>();
  /** Attempts and bookkeeping writes not finished yet. */
  private readonly pending = new Set<Promise<unknown>>();
  private idleWaiters: (() => void)[] = [];

  /** Margin between an attempt's latest end and its lease's end; half the slack when the lease is short. */
  private readonly leaseMarginMs: number;

  constructor(private readonly o: SchedulerOptions) {
    this.leaseMarginMs = Math.min(LEASE_SAFETY_MS, Math.max(0, (o.leaseMs - o.timeoutMs) / 2));
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.mightHaveDue = true;
    this.unsubscribe = this.o.storage.subscribe?.(() => this.wake()) ?? null;
    if (this.o.retention) {
      // Once now, so short-lived processes prune too, then every interval.
      void this.prune();
      this.retentionTimer = setInterval(() => void this.prune(), this.o.retention.intervalMs);
      this.retentionTimer.unref();
    }
    this.loopDone = this.loop();
  }

  stop(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.stopped ??= this.shutDown().finally(() => {
      this.stopped = null;
    });
    return this.stopped;
  }

  private async shutDown(): Promise<void> {
    this.stopping = true;
    this.signal();
    await this.loopDone;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    await this.releaseQueued();
    await this.settled();
    await this.pruning;
    this.running = false;
    this.stopping = false;
  }

  /** New work may be due now (a local emit, a notification from another process). */
  wake(): void {
    this.mightHaveDue = true;
    this.signal();
  }

  /**
   * Sends everything due at `clock.now()` and resolves when every such attempt is recorded. For
   * tests with a manual clock; works whether or not the loop runs.
   */
  async deliverDue(): Promise<void> {
    for (;;) {
      const claimed = await this.claimBatch(this.o.batchSize);
      await this.settled();
      if (claimed === 0) return;
    }
  }

  /**
   * The endpoint changed after its deliveries were claimed. Paused or deleted (`held`,
   * `cancelled`): deliveries of it still waiting locally are recorded so without an attempt.
   * Otherwise (`release`, e.g. a new URL): they are handed back, to be claimed again with the
   * endpoint as it is now.
   */
  forgetEndpoint(endpointId: string, next: 'held' | 'cancelled' | 'release'): void {
    const items = this.queues.get(endpointId);
    if (!items?.length) return;
    this.queues.delete(endpointId);
    this.queued -= items.length;
    const now = new Date(this.o.clock.now());
    if (next === 'release') {
      this.track(this.release(items, now));
      this.wake();
      return;
    }
    for (const { claimed } of items) {
      this.track(
        this.o.storage
          .completeAttempt({ deliveryId: claimed.delivery.id, leaseToken: claimed.leaseToken, attempt: null, next: { status: next }, now })
          .catch((err: unknown) => this.report(err, 'recording a held delivery')),
      );
    }
  }

  /** Deletes finished deliveries older than the retention age. */
  async prune(): Promise<void> {
    const retention = this.o.retention;
    if (!retention || this.pruning) return;
    const run = async (): Promise<void> => {
      try {
        const result = await this.o.storage.prune({ olderThan: new Date(this.o.clock.now() - retention.maxAgeMs) });
        if (result.deliveries > 0) this.o.logger.info({ ...result }, 'hookrelay: pruned old deliveries');
      } catch (err) {
        this.report(err, 'pruning');
      } finally {
        this.pruning = null;
      }
    };
    this.pruning = run();
    await this.pruning;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        const room = this.mightHaveDue ? this.claimRoom() : 0;
        if (room > 0) {
          await this.claimBatch(room);
          continue;
        }
        // Slots all spoken for: wait for attempts to end. Idle: sleep until the next delivery is due.
        const delay = this.mightHaveDue ? this.o.pollIntervalMs : await this.idleDelay();
        if (!(await this.sleep(delay))) this.mightHaveDue = true;
      } catch (err) {
        this.report(err, 'claiming deliveries');
        await this.sleep(this.o.pollIntervalMs);
      }
    }
  }

  /**
   * How many deliveries to claim now: none while every free slot can be filled from the local
   * queue. Deliveries queued behind a busy endpoint do not count, so a slow endpoint's backlog
   * never keeps the others waiting.
   */
  private claimRoom(): number {
    const maxQueued = 2 * Math.max(this.o.concurrency, this.o.batchSize);
    if (this.queued >= maxQueued) return 0;
    let runnable = 0;
    for (const [endpointId, items] of this.queues) {
      runnable += Math.min(items.length, Math.max(0, this.o.perEndpointConcurrency - (this.inFlightByEndpoint.get(endpointId) ?? 0)));
    }
    if (this.inFlight + runnable >= this.o.concurrency) return 0;
    return Math.min(this.o.batchSize, maxQueued - this.queued);
  }

  private async idleDelay(): Promise<number> {
    const next = await this.o.storage.nextDueAt();
    if (!next) return this.o.pollIntervalMs;
    const delay = next.getTime() - this.o.clock.now();
    // Overdue work that the last claim skipped belongs to endpoints this process is busy with;
    // claiming again at once would only skip it again. Their slots freeing up wakes the loop.
    if (delay <= 0 && this.onlyBusyWorkDue) return this.o.pollIntervalMs;
    return Math.max(0, Math.min(this.o.pollIntervalMs, delay));
  }

  /** Claims up to `limit` due deliveries into the local queue and starts what the limits allow. */
  private async claimBatch(limit: number): Promise<number> {
    if (limit <= 0) return 0;
    this.mightHaveDue = false;
    // Endpoints that already have a full wave waiting here are skipped, so one slow endpoint's
    // backlog cannot fill the queue and starve the others.
    const excludeEndpointIds: string[] = [];
    for (const [endpointId, items] of this.queues) if (items.length >= this.o.perEndpointConcurrency) excludeEndpointIds.push(endpointId);
    const now = this.o.clock.now();
    const claimed = await this.o.storage.claimDueDeliveries({
      now: new Date(now),
      limit,
      leaseMs: this.o.leaseMs,
      leaseToken: newUlid(now),
      ...(excludeEndpointIds.length ? { excludeEndpointIds } : {}),
    });
    this.onlyBusyWorkDue = claimed.length === 0 && excludeEndpointIds.length > 0;
    if (claimed.length === 0) return 0;
    if (this.stopping) {
      await this.o.storage.releaseLeases(claimed.map((c) => c.delivery.id), claimed[0]!.leaseToken, new Date(this.o.clock.now()));
      return 0;
    }
    for (const c of claimed) {
      let items = this.queues.get(c.delivery.endpointId);
      if (!items) this.queues.set(c.delivery.endpointId, (items = []));
      items.push({ claimed: c, claimedAt: now });
    }
    this.queued += claimed.length;
    this.dispatch();
    // A full batch means more is due. When every endpoint in it now has a full wave waiting, the
    // rest is most likely theirs too: claiming again at once would only skip past their backlog.
    // Claim again when one of them drains, on a wake-up, or at the next poll.
    if (claimed.length === limit) {
      this.mightHaveDue = claimed.some((c) => (this.queues.get(c.delivery.endpointId)?.length ?? 0) < this.o.perEndpointConcurrency);
      this.onlyBusyWorkDue = !this.mightHaveDue;
    }
    return claimed.length;
  }

  private dispatch(): void {
    if (this.stopping) return;
    const stale: Queued[] = [];
    while (this.inFlight < this.o.concurrency && this.queued > 0) {
      const next = this.takeNext(stale);
      if (!next) break;
      this.launch(next);
    }
    // Handed back due now, in one write, rather than left leased (and idle) until the lease runs out.
    if (stale.length) this.track(this.release(stale, new Date(this.o.clock.now())).then(() => this.wake()));
  }

  /**
   * The next sendable delivery, endpoints taken in turn, skipping those at their limit. One too
   * close to its lease's end to finish inside it goes to `stale` instead.
   */
  private takeNext(stale: Queued[]): Queued | null {
    // A loop, not recursion: a batch claimed together goes stale together, thousands at once.
    for (let item = this.shiftNext(); item !== null; item = this.shiftNext()) {
      if (this.o.clock.now() + this.o.timeoutMs + this.leaseMarginMs <= item.claimedAt + this.o.leaseMs) return item;
      stale.push(item);
    }
    return null;
  }

  /** Takes the next queued delivery, endpoints in turn, skipping those at their limit. */
  private shiftNext(): Queued | null {
    for (const [endpointId, items] of this.queues) {
      if ((this.inFlightByEndpoint.get(endpointId) ?? 0) >= this.o.perEndpointConcurrency) continue;
      const item = items.shift()!;
      this.queued--;
      // Round robin: the endpoint goes to the back of the line (or out of it, when drained).
      if (!items.length) this.queues.delete(endpointId);
      else if (this.queues.size > 1) {
        this.queues.delete(endpointId);
        this.queues.set(endpointId, items);
      }
      if (items.length === this.o.perEndpointConcurrency - 1) this.mightHaveDue = true;
      return item;
    }
    return null;
  }

  private launch(item: Queued): void {
    const endpointId = item.claimed.delivery.endpointId;
    this.inFlight++;
    this.inFlightByEndpoint.set(endpointId, (this.inFlightByEndpoint.get(endpointId) ?? 0) + 1);
    const attempt = this.o
      .run(item.claimed)
      .then(
        (outcome) => {
          if (outcome.followUp) this.track(outcome.followUp);
          if (outcome.stopEndpoint) this.forgetEndpoint(endpointId, outcome.stopEndpoint);
          // The loop may be asleep until a later time (e.g. this delivery's lease end): it must
          // wake to sleep again until this retry instead.
          if (outcome.retryAt !== null && outcome.retryAt < this.sleepingUntil) this.signal();
        },
        (err: unknown) => this.report(err, 'sending a delivery'),
      )
      .finally(() => {
        this.inFlight--;
        const left = (this.inFlightByEndpoint.get(endpointId) ?? 1) - 1;
        if (left === 0) this.inFlightByEndpoint.delete(endpointId);
        else this.inFlightByEndpoint.set(endpointId, left);
        this.dispatch();
        // A freed slot matters to the loop only when it is waiting to claim more.
        if (this.mightHaveDue) this.signal();
      });
    this.track(attempt);
  }

  private track(work: Promise<unknown>): void {
    this.pending.add(work);
    // Tracked work catches its own failures; should a bug still reject one, it is reported, never
    // left to become an unhandled rejection that would end the host's process.
    void work.catch((err: unknown) => this.report(err, 'running scheduler work')).finally(() => {
      this.pending.delete(work);
      if (this.pending.size === 0 && this.queued === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  /** Resolves when nothing is queued and nothing is in flight. */
  private settled(): Promise<void> {
    if (this.pending.size === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async releaseQueued(): Promise<void> {
    const items = [...this.queues.values()].flat();
    this.queues.clear();
    this.queued = 0;
    await this.release(items, new Date(this.o.clock.now()));
  }

  /** Hands claimed deliveries back, due at `now`. */
  private async release(items: Queued[], now: Date): Promise<void> {
    const byToken = new Map<string, string[]>();
    for (const { claimed } of items) {
      const ids = byToken.get(claimed.leaseToken) ?? [];
      ids.push(claimed.delivery.id);
      byToken.set(claimed.leaseToken, ids);
    }
    for (const [token, ids] of byToken) {
      try {
        await this.o.storage.releaseLeases(ids, token, now);
      } catch (err) {
        // Not fatal: the leases run out on their own and the deliveries become due again.
        this.report(err, 'releasing leases');
      }
    }
  }

  private signal(): void {
    this.signaled = true;
    this.wakeLoop?.();
  }

  /** Resolves true when signalled, false when `ms` passed. */
  private sleep(ms: number): Promise<boolean> {
    if (this.signaled) {
      this.signaled = false;
      return Promise.resolve(true);
    }
    this.sleepingUntil = this.o.clock.now() + ms;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeLoop = null;
        this.sleepingUntil = Number.POSITIVE_INFINITY;
        resolve(false);
      }, ms);
      this.wakeLoop = () => {
        clearTimeout(timer);
        this.wakeLoop = null;
        this.sleepingUntil = Number.POSITIVE_INFINITY;
        this.signaled = false;
        resolve(true);
      };
    });
  }

  private report(err: unknown, during: string): void {
    this.o.logger.error({ err, during }, `hookrelay: error while ${during}`);
    this.o.events.emit('error', { error: err, during });
  }
}
