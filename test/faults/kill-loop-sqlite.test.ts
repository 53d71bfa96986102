import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe } from 'vitest';
import { killLoopScenario } from './kill-loop-scenario.js';

describe('kill -9 loop: SQLite', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  killLoopScenario(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-kill-loop-'));
    return { kind: 'sqlite', filename: join(dir, 'webhooks.db') };
  });
});
