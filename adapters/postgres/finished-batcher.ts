import { SharedRounds, takeDistinct } from '../sql/shared-rounds.js';
import type { FinishedAttempt } from '../sql/write-path.js';

/** Finished attempts per shared statement. */
const MAX_FINISHED_BATCH = 200;

interface QueuedSettle {
  item: FinishedAttempt;
  resolve: (ok: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches finished attempts (the bulk of completions): calls that arrive while a statement is
 * in flight share the next one. Every row carries its own lease guard, so the statement moves
 * exactly the rows a one-by-one run would. A delivery not moved was either recorded by an
 * earlier try of the same call (its attempt id exists: success) or is no longer ours (false).
 * If the shared statement fails, each call is retried on its own, so one bad row cannot fail
 * the others.
 */
export class FinishedBatcher extends SharedRounds<QueuedSettle> {
  constructor(
    private readonly settleMany: (items: FinishedAttempt[]) => Promise<Set<string>>,
    private readonly settleOne: (item: FinishedAttempt) => Promise<boolean>,
    private readonly attemptRecorded: (attemptId: string) => Promise<boolean>,
  ) {
    super();
  }

  settle(item: FinishedAttempt): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ item, resolve, reject }));
  }

  protected takeRound(): QueuedSettle[] {
    // One row per delivery per statement: a repeated id waits for the next round.
    return takeDistinct(this.queue, MAX_FINISHED_BATCH, ({ item }) => [item.deliveryId]);
  }

  protected async runRound(batch: QueuedSettle[]): Promise<void> {
    let moved: Set<string> | null = null;
    if (batch.length > 1) moved = await this.settleMany(batch.map((b) => b.item)).catch(() => null);
    await Promise.all(
      batch.map(async ({ item, resolve, reject }) => {
        try {
          const ok = moved ? moved.has(item.deliveryId) : await this.settleOne(item);
          resolve(ok || (await this.attemptRecorded(item.attempt.id)));
        } catch (error) {
          reject(error);
        }
      }),
    );
  }
}
