export interface SharedRoundsOptions {
  /**
   * When true, a call that finds no round running waits one turn of the event loop
   * (`setImmediate`) before the first round starts, so calls made from the other I/O callbacks
   * of the same turn share it. For a driver whose statements complete synchronously
   * (better-sqlite3) a round never has anything in flight to gather behind, and every call
   * would otherwise be a round of its own.
   */
  gather?: boolean;
  /**
   * Rounds allowed in flight at once (default 1). Over a connection pool, one round at a time
   * caps throughput at one round trip per batch; a few side by side keep the pool busy while
   * later calls still gather behind them.
   */
  parallel?: number;
}

/**
 * Calls that share database round trips. A call that arrives while a round is running waits
 * and goes out with the others in the next round, so a burst of N calls costs a handful of
 * statements instead of N, while a lone call goes out at once. Each subclass decides what one
 * round is (which queued calls may share it) and how it runs; settling every call of a round
 * (resolve or reject) is the round's job, so one bad call never strands the queue.
 */
export abstract class SharedRounds<Call> {
  protected readonly queue: Call[] = [];
  private running = 0;
  private scheduled = false;
  private readonly gather: boolean;
  private readonly parallel: number;

  constructor(options: SharedRoundsOptions = {}) {
    this.gather = options.gather ?? false;
    this.parallel = Math.max(1, options.parallel ?? 1);
  }

  protected enqueue(call: Call): void {
    this.queue.push(call);
    if (this.running >= this.parallel || this.scheduled) return;
    if (!this.gather) {
      this.startRunners();
      return;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startRunners();
    });
  }

  /** Removes and returns the calls of the next round from `queue` (at least one). */
  protected abstract takeRound(): Call[];

  /** Runs one round; must settle every call in it and never reject. */
  protected abstract runRound(round: Call[]): Promise<void>;

  private startRunners(): void {
    // Each runner takes its first round synchronously, so this starts no more runners than there are rounds.
    while (this.running < this.parallel && this.queue.length > 0) {
      this.running++;
      void this.runUntilEmpty();
    }
  }

  private async runUntilEmpty(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runRound(this.takeRound());
    } finally {
      this.running--;
    }
  }
}

/**
 * Takes up to `max` calls from `queue`, in order, skipping any whose keys clash with a call
 * already taken: a statement may touch each row once, so a clashing call waits for a later round.
 */
export function takeDistinct<Call>(queue: Call[], max: number, keysOf: (call: Call) => string[]): Call[] {
  const round: Call[] = [];
  const taken = new Set<string>();
  for (let i = 0; i < queue.length && round.length < max; ) {
    const call = queue[i] as Call;
    const keys = keysOf(call);
    if (keys.some((key) => taken.has(key))) {
      i++;
      continue;
    }
    for (const key of keys) taken.add(key);
    round.push(call);
    queue.splice(i, 1);
  }
  return round;
}
