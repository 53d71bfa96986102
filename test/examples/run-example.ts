import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningExample {
  /** The first URL the example printed after `listening on `. */
  url: string;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the first output line matching `pattern`, or rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ends on its own. */
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts an example as a user would (tsx against the sources, `import 'hookrelay'` mapped by
 * tsconfig paths) and waits for it to print `listening on http://127.0.0.1:<port>`.
 */
export async function runExample(
  file: string,
  env: Record<string, string> = {},
  options: { startTimeoutMs?: number; waitForListening?: boolean } = {},
): Promise<RunningExample> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, file)], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const wake of waiters) wake();
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<string>((resolvePromise, reject) => {
      const check = () => {
        const line = text.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return finish(() => resolvePromise(line));
        if (hasExited) return finish(() => reject(new Error(`${file} exited before printing ${pattern}:\n${text}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${file} did not print ${pattern} within ${timeoutMs} ms:\n${text}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  const stop = async () => {
    if (!hasExited) {
      child.kill('SIGTERM');
      await exited;
    }
  };

  let url = '';
  if (options.waitForListening !== false) {
    try {
      const line = await waitForLine(/listening on http:\/\/127\.0\.0\.1:\d+/, options.startTimeoutMs ?? 30_000);
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? '';
    } catch (error) {
      await stop();
      throw error;
    }
  }
  return { url, output: () => text, waitForLine, exited, stop };
}
