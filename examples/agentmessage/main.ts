// AgentMessage's webhooks on hookrelay: a Fastify host reproducing the seed API
// (../shared/seeds/agentmessage-webhooks.txt).
//
//   npx tsx examples/agentmessage/main.ts
//
// It imports 'hookrelay' like any user; in this repo tsconfig `paths` maps that name to the
// sources, so tsx runs it on a clean clone without a build.
//
// Environment: PORT (default 3001; 0 picks a free one), AM_DB (SQLite file, default
// agentmessage.db), AM_STARTING_BALANCE_CENTS (default 1000; each message costs 100, the event
// fires below 500), AM_ALLOW_LOCAL_TARGETS=1 (accept http://127.0.0.1 endpoints).
import { sqliteStorage } from 'hookrelay/sqlite';
import { ApiKeyStore } from './api-keys.js';
import { createAgentMessageApp } from './app.js';

const ORG_ID = '0190a1b2-c3d4-e5f6-a7b8-c9d0e1f2a3b5';
const apiKeys = new ApiKeyStore();
const fullKey = apiKeys.issue(ORG_ID, ['webhooks:read', 'webhooks:write', 'messages:write', 'wallet:read']);
const readOnlyKey = apiKeys.issue(ORG_ID, ['webhooks:read']);

const storage = sqliteStorage({ filename: process.env.AM_DB ?? 'agentmessage.db' });
const { app, hooks } = createAgentMessageApp({
  storage,
  apiKeys,
  allowLocalTargets: process.env.AM_ALLOW_LOCAL_TARGETS === '1',
  startingBalanceCents: Number(process.env.AM_STARTING_BALANCE_CENTS ?? 1000),
});

await hooks.migrate();
hooks.start();
const address = await app.listen({ port: Number(process.env.PORT ?? 3001), host: '127.0.0.1' });
console.log(`AgentMessage API listening on ${address}`);
console.log(`api key (webhooks, messages, wallet): ${fullKey}`);
console.log(`api key (webhooks:read only): ${readOnlyKey}`);
console.log(`try: curl -X POST ${address}/v1/webhooks -H "Authorization: Bearer ${fullKey}" -H "Content-Type: application/json" \\`);
console.log(`       -d '{"url":"https://hooks.example.com/y3labs/ops","events":["wallet.balance_low"]}'`);

async function shutdown(): Promise<void> {
  // Stop the scheduler first: in-flight attempts are recorded before the database closes.
  await hooks.stop();
  await app.close();
  await storage.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
