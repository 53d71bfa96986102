/** One line of the benchmark report: our figure beside its baseline from the same run. */
export interface BenchRow {
  group: 'signing' | 'delivery' | 'storage' | 'http' | string;
  name: string;
  ours: number;
  baseline: number | null;
  baselineName: string | null;
  unit: string;
  /** ours / baseline for throughput; baseline / ours when `lowerIsBetter`. null without a baseline. */
  ratio: number | null;
  /** Latency, memory: smaller is better, so the ratio is inverted to keep "≥ 1 is good". */
  lowerIsBetter?: boolean;
  /** The target from the issue, e.g. "≥ 0.8× raw undici". */
  target?: string;
  /** Whether the target was met; undefined when there is no target. */
  met?: boolean;
}

/** The p-th percentile (0–100) of ascending `sorted`, nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export interface BenchOptions {
  quick: boolean;
  /** Called with a short status line while a benchmark runs. */
  progress?: (line: string) => void;
}
