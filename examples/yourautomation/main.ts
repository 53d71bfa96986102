// YourAutomation's webhooks on hookrelay: an Express host reproducing the seed API
// (../shared/seeds/yourautomation-webhooks.txt).
//
//   npx tsx examples/yourautomation/main.ts
//
// It imports 'hookrelay' like any user; in this repo tsconfig `paths` maps that name to the
// sources, so tsx runs it on a clean clone without a build.
//
// Environment: PORT (default 3000; 0 picks a free one), YA_DB (SQLite file, default
// yourautomation.db), YA_API_KEY (default: a fresh ya_live_… key, printed), YA_MAIL_DIR (write
// pause emails there instead of the console), YA_RETRY_SCHEDULE (comma-separated durations, to
// watch the pause happen in seconds; YA_POLL_INTERVAL to match a schedule under a second),
// YA_ALLOW_LOCAL_TARGETS=1 (accept http://127.0.0.1 endpoints).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sqliteStorage } from 'hookrelay/sqlite';
import { createYourAutomationApp } from './app.js';
import { emailOutbox } from './pause-notification.js';

const ORG_ID = 'org_y3labs';
const apiKey = process.env.YA_API_KEY ?? `ya_live_${randomBytes(18).toString('base64url')}`;
const retrySchedule = process.env.YA_RETRY_SCHEDULE?.split(',').map((s) => s.trim());
let baseUrl = '';

const storage = sqliteStorage({ filename: process.env.YA_DB ?? 'yourautomation.db' });
const { app, hooks } = createYourAutomationApp({
  storage,
  apiKeys: new Map([[apiKey, { orgId: ORG_ID, scopes: ['webhooks:read', 'webhooks:write'] }]]),
  contactFor: (orgId) => ({ orgId, email: 'ops@y3labs.example', name: 'Y3 Labs ops' }),
  sendEmail: emailOutbox(process.env.YA_MAIL_DIR),
  apiBaseUrl: () => baseUrl,
  ...(retrySchedule ? { retrySchedule } : {}),
  ...(process.env.YA_POLL_INTERVAL ? { pollInterval: process.env.YA_POLL_INTERVAL } : {}),
  allowLocalTargets: process.env.YA_ALLOW_LOCAL_TARGETS === '1',
});

await hooks.migrate();
hooks.start();
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`YourAutomation API listening on ${baseUrl}`);
  console.log(`api key (org ${ORG_ID}): ${apiKey}`);
  console.log(`try: curl -X POST ${baseUrl}/v1/webhooks -H "Authorization: Bearer ${apiKey}" -H "Content-Type: application/json" \\`);
  console.log(`       -d '{"url":"https://api.example.com/webhooks/ya-events","events":["execution.completed","execution.failed","tool.error"],"agentId":"agt_abc123"}'`);
});

async function shutdown(): Promise<void> {
  // Stop the scheduler first: in-flight attempts are recorded before the database closes.
  await hooks.stop();
  await new Promise((resolve) => server.close(resolve));
  await storage.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
