import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { sqliteStorage } from '../../adapters/sqlite/index.js';
import { at, endpointRecord, eventWrite, leaseToken } from '../support/storage-fixtures.js';

let dir: string;
let file: string;
let storage: SqlStorage;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookrelay-orphan-'));
  file = join(dir, 'webhooks.db');
  storage = sqliteStorage({ filename: file });
  await storage.migrate();
});
afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a due delivery whose event row was deleted by hand is cancelled by the claim that finds it, not re-leased forever', async () => {
  const endpoint = await storage.createEndpoint(endpointRecord('org_1', at(0)), { maxPerOrg: 50 });
  const orphan = eventWrite('org_1', [endpoint], { createdAt: at(0) });
  const kept = eventWrite('org_1', [endpoint], { createdAt: at(1) });
  await storage.insertEvent(orphan);
  await storage.insertEvent(kept);
  const other = new Database(file);
  other.prepare('DELETE FROM hookrelay_events WHERE id = ?').run(orphan.event.id);
  other.close();

  const claimed = await storage.claimDueDeliveries({ now: at(10), limit: 10, leaseMs: 60_000, leaseToken: leaseToken() });
  expect(claimed.map((c) => c.delivery.id)).toEqual([kept.deliveries[0]!.id]);
  expect(await storage.getDelivery('org_1', orphan.deliveries[0]!.id)).toMatchObject({ status: 'cancelled', completedAt: at(10) });
  // Once the leases have run out only the healthy delivery is claimed again.
  const again = await storage.claimDueDeliveries({ now: at(120_000), limit: 10, leaseMs: 60_000, leaseToken: leaseToken() });
  expect(again.map((c) => c.delivery.id)).toEqual([kept.deliveries[0]!.id]);
});
