import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { chaosScenario } from './chaos-scenario.js';

describe('receiver chaos: SQLite storage', () => {
  let dir: string | undefined;
  chaosScenario(
    'sqlite',
    () => {
      dir = mkdtempSync(join(tmpdir(), 'hookrelay-chaos-'));
      return sqliteStorage({ filename: join(dir, 'webhooks.db') });
    },
    () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  );
});
