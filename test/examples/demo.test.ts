import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runExample } from './run-example.js';

describe('npm run demo (examples/demo)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookrelay-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the whole story offline, exits 0 by itself, and leaves the SQLite file', async () => {
    const database = join(dir, 'demo.db');
    const demo = await runExample('examples/demo/main.ts', { DEMO_DB: database, DEMO_EVENTS: '9' }, { waitForListening: false });
    const code = await Promise.race([demo.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 45_000))]);
    if (code === 'timeout') await demo.stop();
    const output = demo.output();
    expect(code, output).toBe(0);
    expect(output).toMatch(/POST \/v1\/webhooks → wh_\S+ for acme/);
    expect(output).toMatch(/hookrelay paused http:\/\/127\.0\.0\.1:\d+\/initech \(failing\)/);
    // While paused, initech's deliveries are held, not dropped; the exhausted one is retried through the API.
    expect(output).toMatch(/initech delivered 0\/9, retrying 0, held [1-9]\d*, failed [1-9]/);
    expect(output).toMatch(/POST \/v1\/webhooks\/…\/deliveries\/dlv_\S+\/retry/);
    expect(output).toContain('every customer processed all 9 events, every signature verified');
    expect(existsSync(database)).toBe(true);
  }, 60_000);
});
