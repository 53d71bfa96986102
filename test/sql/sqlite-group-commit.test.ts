import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { WebhookService } from '../../src/index.js';
import { createTestReceiver } from '../../src/testing/index.js';

/** A better-sqlite3 database that counts the transactions run through it. */
function countingDatabase(filename: string): { database: SqliteDatabase; commits: () => number; close: () => void } {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  let commits = 0;
  const database: SqliteDatabase = {
    close: () => db.close(),
    prepare(text: string) {
      const statement = db.prepare(text);
      if (/^\s*COMMIT\b/i.test(text)) {
        return {
          reader: statement.reader,
          all: (...args: unknown[]) => statement.all(...args),
          iterate: (...args: unknown[]) => statement.iterate(...args),
          run: (...args: unknown[]) => {
            commits++;
            return statement.run(...args);
          },
        };
      }
      return statement;
    },
  } as unknown as SqliteDatabase;
  return { database, commits: () => commits, close: () => db.close() };
}

async function countDeliveries(hooks: WebhookService, status: 'succeeded'): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page = await hooks.listDeliveries('org_1', { limit: 100, status, cursor });
    count += page.data.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// Issue 5: "SQLite deliveries/s ≥ 0.5× the raw ceiling". better-sqlite3 runs each statement
// synchronously, so without gathering every write would be a transaction (and a WAL commit) of
// its own; writes made in one turn of the event loop share one instead.
describe('SQLite group commit', () => {
  it('emits made in one event-loop turn share a commit, and each is stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-group-'));
    dirs.push(dir);
    const counting = countingDatabase(join(dir, 'hooks.db'));
    const storage = sqliteStorage({ database: counting.database });
    const hooks = new WebhookService({ storage, eventTypes: ['execution.completed'], delivery: { allowHttp: true, allowPrivateNetworks: true } });
    try {
      await hooks.migrate();
      await hooks.create('org_1', { url: 'http://127.0.0.1:9/hook', events: ['execution.completed'] });
      const before = counting.commits();
      // Each emit starts from its own macrotask, as requests arriving on different sockets do.
      const emits = await Promise.all(
        Array.from({ length: 20 }, (_, i) => new Promise<unknown>((resolve, reject) => setImmediate(() => hooks.emit('org_1', { type: 'execution.completed', data: { i } }).then(resolve, reject)))),
      );
      const commits = counting.commits() - before;
      expect(emits).toHaveLength(20);
      expect(commits).toBeGreaterThan(0);
      expect(commits).toBeLessThanOrEqual(2);
      expect((await hooks.listDeliveries('org_1', { limit: 100, status: 'pending' })).data).toHaveLength(20);
    } finally {
      await hooks.stop();
      await storage.close();
      counting.close();
    }
  });

  it('attempts finishing together share commits, and every delivery is recorded once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrelay-group-'));
    dirs.push(dir);
    const counting = countingDatabase(join(dir, 'hooks.db'));
    const storage = sqliteStorage({ database: counting.database });
    const receiver = await createTestReceiver();
    const hooks = new WebhookService({ storage, eventTypes: ['execution.completed'], delivery: { allowHttp: true, allowPrivateNetworks: true, concurrency: 32, perEndpointConcurrency: 32 } });
    try {
      await hooks.migrate();
      await hooks.create('org_1', { url: receiver.url, events: ['execution.completed'] });
      for (let i = 0; i < 200; i++) await hooks.emit('org_1', { type: 'execution.completed', data: { i } });
      const before = counting.commits();
      hooks.start();
      await receiver.waitFor(200);
      await hooks.stop();
      const commits = counting.commits() - before;
      expect(await countDeliveries(hooks, 'succeeded')).toBe(200);
      expect(receiver.requests).toHaveLength(200);
      // 200 completions and a claim or two: one commit each would be about 200.
      expect(commits).toBeLessThan(120);
    } finally {
      await hooks.stop();
      await storage.close();
      await receiver.close();
      counting.close();
    }
  });
});
