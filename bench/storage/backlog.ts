import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * Bulk-writes `count` pending deliveries (all due) straight into hookrelay's tables, far faster
 * than emitting them one by one, so scale benchmarks can start from a large backlog.
 * `eventPerDelivery` writes one event each (as emit would); otherwise they share one event.
 */
export function fillSqliteBacklog(filename: string, endpointId: string, count: number, eventPerDelivery: boolean): void {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const now = Date.now() - 60_000;
  const insertEvent = db.prepare(
    'INSERT INTO hookrelay_events (id, org_id, type, data, idempotency_key, created_at) VALUES (?, ?, ?, ?, NULL, ?)',
  );
  const insertDelivery = db.prepare(
    `INSERT INTO hookrelay_deliveries (id, org_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at)
     VALUES (?, 'org_1', ?, ?, 'execution.completed', 'pending', 0, ?, ?, ?)`,
  );
  const data = JSON.stringify({ executionId: 'exec_1', agentId: 'agt_ghi789', output: 'x'.repeat(200) });
  const fill = db.transaction(() => {
    if (!eventPerDelivery) insertEvent.run('evt_backlog', 'org_1', 'execution.completed', data, now);
    for (let i = 0; i < count; i++) {
      const n = String(i).padStart(12, '0');
      const eventId = eventPerDelivery ? `evt_backlog${n}` : 'evt_backlog';
      if (eventPerDelivery) insertEvent.run(eventId, 'org_1', 'execution.completed', data, now + i);
      insertDelivery.run(`dlv_backlog${n}`, eventId, endpointId, now + i, now + i, now + i);
    }
  });
  fill();
  db.exec('ANALYZE');
  db.close();
}

export async function fillPostgresBacklog(url: string, schema: string, endpointId: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${schema}"`);
    const now = Date.now() - 60_000;
    const data = JSON.stringify({ executionId: 'exec_1', agentId: 'agt_ghi789', output: 'x'.repeat(200) });
    await client.query(
      `INSERT INTO hookrelay_events (id, org_id, type, data, idempotency_key, created_at) VALUES ('evt_backlog', 'org_1', 'execution.completed', $1, NULL, $2)`,
      [data, now],
    );
    await client.query(
      `INSERT INTO hookrelay_deliveries (id, org_id, event_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, created_at, updated_at)
       SELECT 'dlv_backlog' || lpad(g::text, 12, '0'), 'org_1', 'evt_backlog', $1, 'execution.completed', 'pending', 0, $2::bigint + g, $2::bigint + g, $2::bigint + g
       FROM generate_series(1, $3::int) AS g`,
      [endpointId, now, count],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
