import { CompiledQuery, type QueryResult, type RawBuilder } from 'kysely';
import type { Db } from './dialect.js';

/** Stands in for the call's n-th argument while kysely compiles the template. */
class Slot {
  constructor(readonly index: number) {}
}

interface Compiled {
  sql: string;
  parameters: readonly unknown[];
}

/**
 * A statement written as a kysely `sql` template, compiled by kysely once per argument count
 * and then run with each call's arguments. The placeholders (`?` or `$n`) are the compiler's,
 * so a `?` inside a literal is never taken for one. `build` may only interpolate its arguments
 * as values: it is called with stand-ins, not the call's values.
 *
 * Compiled once because these statements run thousands of times a second on the emit and
 * delivery paths, where compiling a template costs more than running a small indexed statement.
 */
export class Prepared<Args extends unknown[], Row> {
  private readonly compiled = new Map<number, Compiled>();

  constructor(private readonly build: (...args: Args) => RawBuilder<Row>) {}

  run(db: Db, ...args: Args): Promise<QueryResult<Row>> {
    let compiled = this.compiled.get(args.length);
    if (compiled === undefined) {
      const slots = args.map((_, i) => new Slot(i)) as Args;
      compiled = this.build(...slots).compile(db);
      this.compiled.set(args.length, compiled);
    }
    const parameters = compiled.parameters.map((p) => (p instanceof Slot ? args[p.index] : p));
    return db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
  }
}
