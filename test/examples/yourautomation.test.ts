import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { YOUR_AUTOMATION_RETRY_SCHEDULE } from '../../examples/yourautomation/app.js';
import { renderPauseEmail } from '../../examples/yourautomation/pause-notification.js';
import type { EndpointPausedInfo } from '../../src/index.js';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { type RunningExample, runExample } from './run-example.js';

// Vitest does not read tsconfig `paths`: point the package names at the sources, as tsx does for the example.
vi.mock('hookrelay', () => import('../../src/index.js'));
vi.mock('hookrelay/express', () => import('../../adapters/express/index.js'));

// The seed's "Node.js verification" snippet, verbatim: what YourAutomation's customers run.
function verifySignature(payload: string, signature: string, secret: string) {
  const expected = crypto.createHmac('sha256', secret).update(payload).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature.replace('sha256=', '')), Buffer.from(expected));
}

const API_KEY = 'ya_live_smoke_test_key';
// The seed's five retries (1s, 5s, 30s, 2min, 10min), scaled down so exhaustion takes a fraction of a second.
const RETRY_SCHEDULE_MS = [20, 40, 60, 80, 100];
const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

describe('examples/yourautomation (Express host reproducing the YourAutomation seed)', () => {
  let dir: string;
  let host: RunningExample;
  let receiver: TestReceiver;
  let webhookId: string;
  let secret: string;

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) =>
    fetch(`${host.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-ya-'));
    receiver = await createTestReceiver({ path: '/webhooks/ya-events' });
    host = await runExample('examples/yourautomation/main.ts', {
      PORT: '0',
      YA_DB: join(dir, 'ya.db'),
      YA_API_KEY: API_KEY,
      YA_MAIL_DIR: join(dir, 'mail'),
      YA_RETRY_SCHEDULE: RETRY_SCHEDULE_MS.map((ms) => `${ms}ms`).join(','),
      YA_POLL_INTERVAL: '10ms',
      YA_ALLOW_LOCAL_TARGETS: '1',
    });
  });

  afterAll(async () => {
    await host?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a webhook with the seed request and answers in the seed shape (camelCase, top-level agentId)', async () => {
    const response = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['execution.completed', 'execution.failed', 'tool.error'], agentId: 'agt_abc123' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ url: receiver.url, events: ['execution.completed', 'execution.failed', 'tool.error'], agentId: 'agt_abc123', status: 'active' });
    expect(body.id).toMatch(/^wh_/);
    expect(body.secret).toMatch(/^whsec_/);
    expect(new Date(body.createdAt as string).toISOString()).toBe(body.createdAt);
    expect(Object.keys(body).filter((k) => k.includes('_'))).toEqual([]);
    webhookId = body.id as string;
    secret = body.secret as string;

    const read = (await (await api('GET', `/v1/webhooks/${webhookId}`)).json()) as Record<string, unknown>;
    expect(read).toMatchObject({ id: webhookId, agentId: 'agt_abc123' });
    expect(read).not.toHaveProperty('secret');
  });

  it('offers exactly the seed’s 11 event types', async () => {
    const catalog = (await (await api('GET', '/v1/event-types')).json()) as { data: { type: string }[] };
    expect(catalog.data.map((e) => e.type)).toEqual([
      'execution.started',
      'execution.completed',
      'execution.failed',
      'execution.cancelled',
      'tool.called',
      'tool.error',
      'agent.created',
      'agent.updated',
      'agent.deleted',
      'key.created',
      'key.revoked',
    ]);
  });

  it('refuses a missing key, an unknown event type and a non-https url in the envelope', async () => {
    const anonymous = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['execution.completed'] }, { 'content-type': 'application/json' });
    expect(anonymous.status).toBe(401);
    const unknownEvent = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['execution.exploded'] });
    expect(unknownEvent.status).toBe(422);
    expect(await unknownEvent.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED', details: { events: expect.any(String) } } });
    const ftp = await api('POST', '/v1/webhooks', { url: 'ftp://api.example.com/hooks', events: ['execution.completed'] });
    expect((await ftp.json()) as unknown).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: { url: expect.any(String) } } });
    const badFilter = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['execution.completed'], agentId: { nested: true } });
    expect((await badFilter.json()) as unknown).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: { agentId: expect.any(String) } } });
    // Unreadable bodies and unknown routes get the envelope too, never a 500 or an HTML page.
    for (const path of ['/v1/webhooks', '/v1/agents/agt_abc123/executions']) {
      const malformed = await fetch(`${host.url}${path}`, { method: 'POST', headers: auth, body: '{"url": ' });
      expect(malformed.status, path).toBe(400);
      expect(await malformed.json()).toMatchObject({ success: false, error: { code: 'BAD_REQUEST' } });
    }
    const nowhere = await api('GET', '/v1/nowhere');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });
  });

  it('delivers only its agent’s subscribed events, with X-YA-Webhook-* headers the seed snippet verifies', async () => {
    expect((await api('POST', '/v1/agents/agt_other/executions', { input: 'not for this webhook' })).status).toBe(201);
    expect((await api('POST', '/v1/agents/agt_abc123/executions', { input: 'summarize' })).status).toBe(201);
    const [request] = await receiver.waitFor(1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // execution.started is not subscribed and agt_other's events do not match the agentId filter.
    expect(receiver.requests).toHaveLength(1);

    const headers = request!.headers;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-ya-webhook-id']).toBe(webhookId);
    expect(Math.abs(Number(headers['x-ya-webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(headers['x-ya-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(request!.body, headers['x-ya-webhook-signature'] as string, secret)).toBe(true);

    const event = request!.json as Record<string, unknown>;
    expect(Object.keys(event).sort()).toEqual(['createdAt', 'data', 'id', 'type']);
    expect(event.id).toMatch(/^evt_/);
    expect(event).toMatchObject({ type: 'execution.completed', data: { agentId: 'agt_abc123', status: 'completed', usage: { totalTokens: 231 } } });
    expect(Object.keys(event.data as object).sort()).toEqual(['agentId', 'duration', 'executionId', 'output', 'status', 'usage']);
  });

  it('retries 5 times, pauses the webhook, emails the owner, holds new events, and delivers them after reactivation', async () => {
    receiver.clear();
    receiver.setDefault({ kind: 'status', status: 500 });
    await api('POST', '/v1/agents/agt_abc123/executions', { input: 'doomed' });
    const attempts = await receiver.waitFor(6, 15_000);
    // One attempt and the seed's five retries, all of the same event, each after its delay.
    expect(new Set(attempts.map((r) => (r.json as { id: string }).id)).size).toBe(1);
    const gaps = attempts.slice(1).map((r, i) => r.receivedAt - (attempts[i] as { receivedAt: number }).receivedAt);
    gaps.forEach((gap, i) => expect(gap, `gap before retry ${i + 1}: ${gaps.join(', ')} ms`).toBeGreaterThanOrEqual((RETRY_SCHEDULE_MS[i] as number) - 5));

    const mailDir = join(dir, 'mail');
    const emails = () => (existsSync(mailDir) ? readdirSync(mailDir).filter((f) => f.endsWith('.txt')) : []);
    await expect.poll(() => emails().length, { timeout: 5000 }).toBe(1);
    const email = readFileSync(join(mailDir, emails()[0] as string), 'utf8');
    expect(email).toContain('To: ops@y3labs.example');
    expect(email).toContain(`Subject: [YourAutomation] Webhook ${webhookId} has been paused`);
    expect(email).toContain(`PATCH ${host.url}/v1/webhooks/${webhookId}`);
    // The schedule this host runs with (YA_RETRY_SCHEDULE), not the seed's default.
    expect(email).toContain('every delivery attempt of the retry policy (20ms, 40ms, 60ms, 80ms, 100ms) failed');
    expect(email).not.toContain('2min');
    expect((await (await api('GET', `/v1/webhooks/${webhookId}`)).json()) as unknown).toMatchObject({ status: 'paused' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(6);

    // While paused, events are kept, not delivered.
    await api('POST', '/v1/agents/agt_abc123/executions', { input: 'while paused' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(6);

    receiver.setDefault({ kind: 'status', status: 200 });
    const reactivated = await api('PATCH', `/v1/webhooks/${webhookId}`, { status: 'active' });
    expect(reactivated.status).toBe(200);
    expect(await reactivated.json()).toMatchObject({ id: webhookId, status: 'active', agentId: 'agt_abc123' });
    const [, , , , , , held] = await receiver.waitFor(7, 15_000);
    expect(held!.json).toMatchObject({ type: 'execution.completed', data: { agentId: 'agt_abc123' } });
    expect((held!.json as { data: { output: string } }).data.output).toContain('while paused');
  }, 40_000);

  it('updates events with PATCH and deletes with the seed response', async () => {
    const patched = await api('PATCH', `/v1/webhooks/${webhookId}`, { events: ['execution.completed', 'execution.failed'] });
    expect(await patched.json()).toMatchObject({ events: ['execution.completed', 'execution.failed'] });
    const deleted = await api('DELETE', `/v1/webhooks/${webhookId}`);
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ id: webhookId, deleted: true });
    expect((await api('GET', `/v1/webhooks/${webhookId}`)).status).toBe(404);
  });
});

describe('examples/yourautomation pause email', () => {
  const info = {
    endpoint: { id: 'wh_01JTBQH2FZ8K1RXC0WJ4Z9P3VM', orgId: 'org_y3labs', url: 'https://api.example.com/hooks', events: ['execution.failed'] },
    reason: 'failing',
  } as unknown as EndpointPausedInfo;
  const contact = { orgId: 'org_y3labs', email: 'ops@y3labs.example', name: 'Y3 Labs ops' };
  const render = (retrySchedule: readonly (number | string)[]) => renderPauseEmail(info, contact, { apiBaseUrl: 'https://api.yourautomation.example', retrySchedule }).text;

  it('states the seed policy by default and the configured schedule when it is overridden', () => {
    expect(render(YOUR_AUTOMATION_RETRY_SCHEDULE)).toContain('every delivery attempt of the retry policy (1s, 5s, 30s, 2min, 10min) failed');
    expect(render(['500ms', 1500, '90s', '1h'])).toContain('every delivery attempt of the retry policy (500ms, 1500ms, 90s, 1h) failed');
    expect(render([])).toContain('every delivery attempt of the retry policy (no retries) failed');
  });
});
