import type { InsertEventResult, NewEventWrite } from '../../src/storage/storage.js';
import type { Db, SqlDialect } from '../sql/dialect.js';
import { eventToRow, type EndpointRow } from '../sql/rows.js';
import type { FinishedAttempt, WritePath, WritePathContext } from '../sql/write-path.js';
import { EventBatcher } from './event-batcher.js';
import { FinishedBatcher } from './finished-batcher.js';
import { LiveEndpointsReader } from './live-endpoints-reader.js';
import { NotifyCoalescer } from './notify-coalescer.js';
import { PostgresQueries } from './postgres-queries.js';

/**
 * Postgres's write path: writers use separate pooled connections and commit in parallel, so a
 * write is a transaction of its own. The hot writes need none: data-modifying CTEs make an emit
 * (event, deliveries, wake-up) and a finished attempt (guarded update, attempt row) one atomic
 * statement each, and calls that arrive together share that statement.
 */
export class PostgresWritePath implements WritePath {
  private readonly notifier: NotifyCoalescer;
  private readonly events: EventBatcher;
  private readonly endpoints: LiveEndpointsReader;
  private readonly finished: FinishedBatcher;
  private readonly queries: PostgresQueries;

  constructor(
    private readonly context: WritePathContext,
    private readonly dialect: SqlDialect,
    private readonly channel: string,
  ) {
    const { db, run, hot } = context;
    const queries = new PostgresQueries(context.table);
    this.queries = queries;
    this.notifier = new NotifyCoalescer(db, channel);
    this.events = new EventBatcher(
      (writes) => this.insertMany(writes),
      (write) => run(() => context.insertEventIn(db, write)),
    );
    this.endpoints = new LiveEndpointsReader((orgIds) => run(async () => (await queries.liveEndpointsOfOrgs(db, orgIds)).rows));
    this.finished = new FinishedBatcher(
      (items) => run(() => queries.settleFinishedBatch(db, items)).then((r) => new Set(r.rows.map((row) => row.id))),
      (item) => run(async () => Number((await queries.settleFinishedAtomic(db, item)).rows[0]?.updated) > 0),
      (attemptId) => run(async () => (await hot.attemptExists(db, attemptId)).rows.length > 0),
    );
  }

  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.context.run(() => this.dialect.writeTransaction(this.context.db, work));
  }

  async writeEventRows(tx: Db, write: NewEventWrite, inHostTransaction: boolean): Promise<boolean> {
    const wakes = write.deliveries.some((d) => d.status === 'pending');
    // Inside a host transaction only the transaction itself can notify on commit; otherwise
    // bursts of emits share wake-ups (see NotifyCoalescer).
    const notify = wakes && (inHostTransaction || this.notifier.notifyNow());
    const { rows } = await this.queries.insertEventAtomic(tx, eventToRow(write.event), write.deliveries, notify ? this.channel : null);
    const created = Number(rows[0]?.created) > 0;
    if (created && wakes && !notify) this.notifier.notifySoon();
    return created;
  }

  /** The emit is one statement, atomic on its own: it needs no savepoint. */
  inHostTransaction<T>(_tx: Db, work: () => Promise<T>): Promise<T> {
    return work();
  }

  liveEndpoints(orgId: string): Promise<EndpointRow[]> {
    return this.endpoints.read(orgId);
  }

  insertEvent(write: NewEventWrite): Promise<InsertEventResult> {
    return this.events.insert(write);
  }

  settleFinished(finished: FinishedAttempt): Promise<boolean> {
    return this.finished.settle(finished);
  }

  close(): void {
    this.notifier.close();
  }

  private async insertMany(writes: NewEventWrite[]): Promise<Set<string>> {
    const wakes = writes.some((w) => w.deliveries.some((d) => d.status === 'pending'));
    const notify = wakes && this.notifier.notifyNow();
    const { rows } = await this.context.run(() =>
      this.queries.insertEventsBatch(
        this.context.db,
        writes.map((w) => eventToRow(w.event)),
        writes.flatMap((w) => w.deliveries),
        notify ? this.channel : null,
      ),
    );
    const created = new Set(rows.map((r) => r.id));
    if (wakes && !notify && created.size > 0) this.notifier.notifySoon();
    return created;
  }
}
