/**
 * Sign and verify throughput of hookrelay's Standard Webhooks scheme beside the `standardwebhooks`
 * reference library, in the same process and run. Rounds alternate which side goes first, and each
 * figure is the median of its rounds, so drift on a shared machine hits both sides alike.
 *
 * Standalone: `npx tsx bench/signing/index.ts [--quick]`.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import type { BenchOptions, BenchRow } from '../bench-row.js';

interface Case {
  name: string;
  ours: () => unknown;
  baseline: () => unknown;
  target?: number;
}

const BASELINE_NAME = 'standardwebhooks';

function eventBody(bytes: number): string {
  const base = { id: 'evt_01JD4Z8X2K3M4N5P6Q7R8S9T0V', type: 'execution.completed', createdAt: '2026-03-15T10:30:00.000Z' };
  const skeleton = JSON.stringify({ ...base, data: { executionId: 'exec_def456', output: '' } });
  return JSON.stringify({ ...base, data: { executionId: 'exec_def456', output: 'x'.repeat(Math.max(0, bytes - skeleton.length)) } });
}

function cases(): Case[] {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const previousSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const scheme = standardWebhooks();
  const reference = new Webhook(secret);
  const referencePrevious = new Webhook(previousSecret);
  const list: Case[] = [];

  for (const [label, size] of [
    ['1 KiB', 1024],
    ['64 KiB', 64 * 1024],
  ] as const) {
    const body = eventBody(size);
    const eventId = 'evt_01JD4Z8X2K3M4N5P6Q7R8S9T0V';
    // The timestamp is fixed for the run; a full run takes well under the 5-minute tolerance.
    const now = new Date();
    const timestamp = Math.floor(now.getTime() / 1000);
    const input = { endpointId: 'wh_01JD4Z8X2K3M4N5P6Q7R8S9T0V', eventId, timestamp, body, secrets: [secret] };
    const headers = scheme.sign(input);
    const payload = Buffer.from(body);
    list.push({
      name: `sign, ${label} body`,
      ours: () => scheme.sign(input),
      baseline: () => reference.sign(eventId, now, body),
      target: 1,
    });
    list.push({
      name: `verify + parse, ${label} body`,
      ours: () => verifyWebhook({ payload, headers, secret }),
      baseline: () => reference.verify(payload, headers),
      target: 1,
    });
    if (size === 1024) {
      // A receiver mid-rotation: the request is signed with the new secret, the old one is tried first.
      const rotated = scheme.sign({ ...input, secrets: [secret] });
      list.push({
        name: `verify + parse, ${label}, 2 secrets (rotation)`,
        ours: () => verifyWebhook({ payload, headers: rotated, secret: [previousSecret, secret] }),
        baseline: () => {
          try {
            return referencePrevious.verify(payload, rotated);
          } catch {
            return reference.verify(payload, rotated);
          }
        },
        target: 1,
      });
    }
  }
  return list;
}

let sink = 0;

/** Operations per second of `fn` over about `ms` milliseconds. */
function measure(fn: () => unknown, ms: number): number {
  let ops = 0;
  let batch = 16;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) {
      const result = fn();
      // Keeps the work observable so nothing is optimised away.
      if (result === undefined) sink++;
    }
    ops += batch;
    elapsed = performance.now() - start;
    if (elapsed < ms / 20) batch *= 2;
  }
  return ops / (elapsed / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs every case in interleaved rounds and returns one row per case, ratio = ours / standardwebhooks. */
export async function runSigningBench(opts: BenchOptions): Promise<BenchRow[]> {
  const rounds = opts.quick ? 5 : 11;
  const roundMs = opts.quick ? 80 : 300;
  const rows: BenchRow[] = [];
  for (const c of cases()) {
    opts.progress?.(`${c.name} (warm-up)`);
    measure(c.ours, roundMs);
    measure(c.baseline, roundMs);
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let round = 0; round < rounds; round++) {
      opts.progress?.(`${c.name} (round ${round + 1}/${rounds})`);
      if (round % 2 === 0) {
        ours.push(measure(c.ours, roundMs));
        baseline.push(measure(c.baseline, roundMs));
      } else {
        baseline.push(measure(c.baseline, roundMs));
        ours.push(measure(c.ours, roundMs));
      }
      // Lets the event loop breathe between rounds (progress output, GC finalisers).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const o = median(ours);
    const b = median(baseline);
    const ratio = o / b;
    rows.push({
      group: 'signing',
      name: c.name,
      ours: Math.round(o),
      baseline: Math.round(b),
      baselineName: BASELINE_NAME,
      unit: 'ops/s',
      ratio: Math.round(ratio * 100) / 100,
      ...(c.target === undefined ? {} : { target: `≥ ${c.target.toFixed(1)}× ${BASELINE_NAME}`, met: ratio >= c.target }),
    });
  }
  if (sink < 0) process.stderr.write(String(sink));
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { renderTable } = await import('../index.js');
  const quick = process.argv.includes('--quick');
  const rows = await runSigningBench({ quick, progress: (line) => process.stderr.write(`\r\x1b[K${line}`) });
  process.stderr.write('\r\x1b[K');
  process.stdout.write(`${renderTable(rows)}\n`);
}
