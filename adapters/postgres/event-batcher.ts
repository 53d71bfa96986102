import type { InsertEventResult, NewEventWrite } from '../../src/storage/storage.js';
import { SharedRounds, takeDistinct } from '../sql/shared-rounds.js';

/** Emits per shared statement. */
const MAX_EVENT_BATCH = 100;

interface QueuedEmit {
  write: NewEventWrite;
  resolve: (result: InsertEventResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Batches emits: calls that arrive while a statement is in flight share the next one, which
 * writes every event with its deliveries atomically. Writes whose event conflicted (an
 * idempotency key already used, or a retried write) go through the one-by-one path, which
 * answers with the first event; so does every write of a batch whose statement failed (say, a
 * clashing delivery id), so one bad write cannot fail the others. Within a batch, events have
 * distinct ids and idempotency keys.
 */
export class EventBatcher extends SharedRounds<QueuedEmit> {
  /**
   * @param insertMany writes the events with their deliveries in one statement; resolves with the ids of the events it created.
   * @param insertOne the one-by-one emit, with the full answer for a conflicting event.
   */
  constructor(
    private readonly insertMany: (writes: NewEventWrite[]) => Promise<Set<string>>,
    private readonly insertOne: (write: NewEventWrite) => Promise<InsertEventResult>,
  ) {
    super();
  }

  insert(write: NewEventWrite): Promise<InsertEventResult> {
    return new Promise((resolve, reject) => this.enqueue({ write, resolve, reject }));
  }

  protected takeRound(): QueuedEmit[] {
    return takeDistinct(this.queue, MAX_EVENT_BATCH, ({ write: { event } }) =>
      event.idempotencyKey === null ? [`id\u0000${event.id}`] : [`id\u0000${event.id}`, `key\u0000${event.orgId}\u0000${event.idempotencyKey}`],
    );
  }

  protected async runRound(batch: QueuedEmit[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [QueuedEmit];
      await this.insertOne(only.write).then(only.resolve, only.reject);
      return;
    }
    const created = await this.insertMany(batch.map((b) => b.write)).catch(() => null);
    await Promise.all(
      batch.map(async ({ write, resolve, reject }) => {
        if (created?.has(write.event.id)) {
          resolve({ event: structuredClone(write.event), deliveries: write.deliveries.map((d) => structuredClone(d)), created: true });
          return;
        }
        await this.insertOne(write).then(resolve, reject);
      }),
    );
  }
}
