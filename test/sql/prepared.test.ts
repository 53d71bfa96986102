import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Db } from '../../adapters/sql/dialect.js';
import { Prepared } from '../../adapters/sql/prepared.js';
import { describePostgres } from '../support/postgres-test-db.js';

function preparedSuite(open: () => Db): void {
  const db = open();
  afterAll(() => db.destroy());

  // Placeholders used to be made by rewriting every `?` of the text into `$n` for Postgres,
  // which turned this literal into a parameter and the query into an error.
  it('a ? inside a string literal stays text: the placeholders are the compiler’s', async () => {
    const query = new Prepared((n: unknown) => sql<{ mark: string; n: number }>`SELECT '?' AS mark, '$1 ?' AS other, CAST(${n} AS integer) AS n`);
    const first = await query.run(db, 7);
    expect(first.rows).toEqual([{ mark: '?', other: '$1 ?', n: 7 }]);
    const second = await query.run(db, 8);
    expect(second.rows).toEqual([{ mark: '?', other: '$1 ?', n: 8 }]);
  });

  it('runs each call with its own arguments, one compiled text per argument count, an argument used twice', async () => {
    const query = new Prepared((...values: unknown[]) => sql<{ total: number }>`SELECT ${sql.join(values.map((v) => sql`CAST(${v} AS integer)`), sql` + `)} AS total`);
    expect((await query.run(db, 1, 2)).rows).toEqual([{ total: 3 }]);
    expect((await query.run(db, 1, 2, 3)).rows).toEqual([{ total: 6 }]);
    expect((await query.run(db, 10, 20)).rows).toEqual([{ total: 30 }]);
    const twice = new Prepared((a: unknown) => sql<{ sum: number }>`SELECT CAST(${a} AS integer) + CAST(${a} AS integer) AS sum`);
    expect((await twice.run(db, 4)).rows).toEqual([{ sum: 8 }]);
  });
}

describe('prepared statements: SQLite', () => {
  preparedSuite(() => new Kysely({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }));
});

describePostgres('prepared statements: Postgres', (url) => {
  preparedSuite(() => new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) }));
});
