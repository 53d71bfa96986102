import type { Db } from '../sql/dialect.js';
import { SharedRounds } from '../sql/shared-rounds.js';

interface QueuedWrite {
  work: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Writes per shared transaction: enough to amortise a commit, few enough to keep latency low. */
const MAX_GROUP = 64;

/**
 * Group commit. Writes that arrive while a transaction is running wait and then share the next
 * one, each inside its own SAVEPOINT: a write that throws rolls back to its savepoint and fails
 * alone, the others commit. Nobody's promise resolves before the shared COMMIT succeeded, so
 * each write is still all-or-nothing and durable when it resolves. A transient failure (busy,
 * or a failed COMMIT) re-runs the whole group, which is safe: nothing of it was committed.
 */
export class GroupCommit extends SharedRounds<QueuedWrite> {
  constructor(
    private readonly transaction: <T>(work: (tx: Db) => Promise<T>) => Promise<T>,
    private readonly isTransient: (error: unknown) => boolean,
    private readonly asStorageError: (error: unknown) => unknown,
    private readonly inSavepoint: <T>(tx: Db, work: () => Promise<T>) => Promise<T>,
  ) {
    // The writes of one event-loop turn (attempts finishing on several sockets, emits from
    // several requests) share a commit; on SQLite the commit is most of a write's cost.
    super({ gather: true });
  }

  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.enqueue({ work, resolve: resolve as (value: unknown) => void, reject }));
  }

  protected takeRound(): QueuedWrite[] {
    return this.queue.splice(0, MAX_GROUP);
  }

  protected async runRound(group: QueuedWrite[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [QueuedWrite];
      await this.transaction(only.work).then(only.resolve, only.reject);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = await this.transaction(async (tx) => {
        const results: Outcome[] = [];
        for (const item of group) {
          try {
            results.push({ ok: true, value: await this.inSavepoint(tx, () => item.work(tx)) });
          } catch (error) {
            // Busy or lost connection: retry the whole group rather than fail one write.
            if (this.isTransient(error)) throw error;
            results.push({ ok: false, error: this.asStorageError(error) });
          }
        }
        return results;
      });
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i] as Outcome;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
