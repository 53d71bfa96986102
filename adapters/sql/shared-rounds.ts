export interface SharedRoundsOptions {
  /**
   * When true, a call that finds no round running waits one turn of the event loop
   * (`setImmediate`) before the first round starts, so calls made from the other I/O callbacks
   * of the same turn share it. For a driver whose statements complete synchronously
   * (better-sqlite3) a round never has anything in flight to gather behind, and every call
   * would otherwise be a round of its own.
   */
  gather?: boolean;
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
  private flushing = false;
  private readonly gather: boolean;

  constructor(options: SharedRoundsOptions = {}) {
    this.gather = options.gather ?? false;
  }

  protected enqueue(call: Call): void {
    this.queue.push(call);
    if (this.flushing) return;
    this.flushing = true;
    if (this.gather) setImmediate(() => void this.flush());
    else void this.flush();
  }

  /** Removes and returns the calls of the next round from `queue` (at least one). */
  protected abstract takeRound(): Call[];

  /** Runs one round; must settle every call in it and never reject. */
  protected abstract runRound(round: Call[]): Promise<void>;

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runRound(this.takeRound());
    } finally {
      this.flushing = false;
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
