import { chunks, INSERT_CHUNK } from '../sql/chunks.js';
import type { Db, SqlDialect } from '../sql/dialect.js';
import { eventToRow, type EndpointRow } from '../sql/rows.js';
import { asStorageError } from '../sql/transient.js';
import type { WritePath, WritePathContext } from '../sql/write-path.js';
import type { NewEventWrite } from '../../src/storage/storage.js';
import { GroupCommit } from './group-commit.js';

/**
 * SQLite's write path: one writer at a time, and a commit costs most of a write, so every
 * write goes through group commit (writes of one event-loop turn share a transaction, each in
 * a savepoint of its own). An emit takes several statements (event, then deliveries), so inside
 * a host's transaction it runs in a savepoint too.
 */
export class SqliteWritePath implements WritePath {
  private readonly groupCommit: GroupCommit;

  constructor(
    private readonly context: WritePathContext,
    dialect: SqlDialect,
  ) {
    const { db, run, hot } = context;
    this.groupCommit = new GroupCommit(
      (work) => run(() => dialect.writeTransaction(db, work)),
      (error) => dialect.isTransient(error),
      (error) => asStorageError(error, dialect),
      (tx, work) => hot.inSavepoint(tx, work),
    );
  }

  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.groupCommit.write(work);
  }

  async writeEventRows(tx: Db, write: NewEventWrite): Promise<boolean> {
    const created = Number((await this.context.hot.insertEvent(tx, eventToRow(write.event))).numAffectedRows ?? 0n) > 0;
    if (!created) return false;
    for (const batch of chunks(write.deliveries, INSERT_CHUNK)) await this.context.hot.insertDeliveries(tx, batch);
    return true;
  }

  inHostTransaction<T>(tx: Db, work: () => Promise<T>): Promise<T> {
    return this.context.hot.inSavepoint(tx, work);
  }

  liveEndpoints(orgId: string): Promise<EndpointRow[]> {
    return this.context.run(async () => (await this.context.hot.liveEndpoints(this.context.db, orgId)).rows);
  }

  close(): void {}
}
