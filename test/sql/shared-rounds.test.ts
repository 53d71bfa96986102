import { describe, expect, it } from 'vitest';
import { SharedRounds, type SharedRoundsOptions, takeDistinct } from '../../adapters/sql/shared-rounds.js';

describe('takeDistinct', () => {
  it('takes calls in order up to the cap, leaving clashing ones queued for a later round', () => {
    const queue = ['a1', 'b1', 'a2', 'c1', 'd1', 'e1'];
    const round = takeDistinct(queue, 3, (call) => [call[0] as string]);
    expect(round).toEqual(['a1', 'b1', 'c1']);
    expect(queue).toEqual(['a2', 'd1', 'e1']);
  });

  it('a call clashes on any of its keys', () => {
    const queue = [['x', 'k'], ['y', 'k'], ['y']];
    expect(takeDistinct(queue, 10, (keys) => keys)).toEqual([['x', 'k'], ['y']]);
    expect(queue).toEqual([['y', 'k']]);
  });
});

/**
 * Records the rounds it runs; each call resolves with the size of the round it went in. A
 * round takes at most `cap` calls and lasts `waitMs`, or finishes without ever waiting (null),
 * as better-sqlite3's statements do.
 */
class RecordingRounds extends SharedRounds<{ n: number; resolve: (size: number) => void }> {
  readonly rounds: number[][] = [];
  constructor(
    private readonly cap: number,
    private readonly waitMs: number | null,
    options: SharedRoundsOptions = {},
  ) {
    super(options);
  }
  call(n: number): Promise<number> {
    return new Promise((resolve) => this.enqueue({ n, resolve }));
  }
  protected takeRound() {
    return this.queue.splice(0, this.cap);
  }
  protected async runRound(round: { n: number; resolve: (size: number) => void }[]): Promise<void> {
    this.rounds.push(round.map((c) => c.n));
    if (this.waitMs !== null) await new Promise((r) => setTimeout(r, this.waitMs as number));
    for (const c of round) c.resolve(round.length);
  }
}

describe('SharedRounds', () => {
  it('a lone call goes out at once; calls arriving meanwhile share the next rounds, capped', async () => {
    const rounds = new RecordingRounds(4, 5);
    const sizes = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => rounds.call(n)));
    expect(rounds.rounds).toEqual([[1], [2, 3, 4, 5], [6]]);
    expect(sizes).toEqual([1, 4, 4, 4, 4, 1]);
    // Idle again: the next call starts a round of its own.
    await rounds.call(7);
    expect(rounds.rounds.at(-1)).toEqual([7]);
  });
});

describe('SharedRounds with gather', () => {
  const fromSeparateCallbacks = (rounds: RecordingRounds, count: number): Promise<number[]> =>
    Promise.all(Array.from({ length: count }, (_, i) => new Promise<number>((resolve) => setImmediate(() => void rounds.call(i).then(resolve)))));

  it('calls from the callbacks of one event-loop turn share a round, even when rounds never wait', async () => {
    const gathering = new RecordingRounds(10, null, { gather: true });
    expect(await fromSeparateCallbacks(gathering, 4)).toEqual([4, 4, 4, 4]);
    expect(gathering.rounds).toEqual([[0, 1, 2, 3]]);
  });

  it('without gather the same calls each run alone', async () => {
    const plain = new RecordingRounds(10, null);
    expect(await fromSeparateCallbacks(plain, 4)).toEqual([1, 1, 1, 1]);
    expect(plain.rounds).toEqual([[0], [1], [2], [3]]);
  });
});
