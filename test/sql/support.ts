import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { StorageSpec } from './fixtures/storage-spec.js';
import type { WorkerConfig } from './fixtures/worker.js';

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Every JSON line printed so far. */
  readonly lines: Record<string, unknown>[];
  /** Resolves with the first line matching `predicate` (past or future). */
  waitFor(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then the worker's final line once it stopped cleanly. */
  stop(): Promise<Record<string, unknown>>;
  /** SIGKILL: no clean-up of any kind, like a crash. */
  kill(): Promise<void>;
}

/** Starts `fixtures/worker.ts` in a new Node process through tsx. */
export function spawnWorker(config: WorkerConfig): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/sql/fixtures/worker.ts'], {
    env: { ...process.env, HOOKRELAY_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { predicate: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor: WorkerProcess['waitFor'] = (predicate, timeoutMs = 20_000) => {
    const seen = lines.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker line not seen in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs);
      waiters.push({
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}) before the line; stderr: ${stderr.slice(-2000)}`));
      });
    });
  };
  return {
    child,
    lines,
    waitFor,
    async stop() {
      const final = waitFor((l) => l.stopped === true);
      child.kill('SIGTERM');
      return final;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs one read-only SQL statement against the spec's database, outside hookrelay. */
export async function inspect<T>(spec: StorageSpec, query: string): Promise<T[]> {
  if (spec.kind === 'sqlite') {
    const db = new Database(spec.filename, { readonly: true });
    try {
      return db.prepare(query).all() as T[];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: spec.url });
  await client.connect();
  try {
    if (spec.schema) await client.query(`SET search_path TO "${spec.schema}"`);
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many times each event id arrived at the receiver (from the delivery body's `id`). */
export function arrivals(requests: readonly { json: unknown }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const id = (r.json as { id?: string } | undefined)?.id;
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
