import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { type RunningExample, runExample } from './run-example.js';

const ORG_ID = '0190a1b2-c3d4-e5f6-a7b8-c9d0e1f2a3b5';

describe('examples/agentmessage (Fastify host reproducing the AgentMessage seed)', () => {
  let dir: string;
  let host: RunningExample;
  let receiver: TestReceiver;
  let fullKey: string;
  let readOnlyKey: string;
  let secret: string;

  const api = (method: string, path: string, body?: unknown, key: string | null = fullKey) =>
    fetch(`${host.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookrelay-am-'));
    receiver = await createTestReceiver({ path: '/y3labs/ops' });
    // 600 cents and 100 per message: the second message crosses the 500-cent line.
    host = await runExample('examples/agentmessage/main.ts', {
      PORT: '0',
      AM_DB: join(dir, 'am.db'),
      AM_STARTING_BALANCE_CENTS: '600',
      AM_ALLOW_LOCAL_TARGETS: '1',
    });
    fullKey = /api key \(webhooks, messages, wallet\): (am_live_\S+)/.exec(await host.waitForLine(/api key \(webhooks, messages/))?.[1] as string;
    readOnlyKey = /api key \(webhooks:read only\): (am_live_\S+)/.exec(await host.waitForLine(/webhooks:read only/))?.[1] as string;
  });

  afterAll(async () => {
    await host?.stop();
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the seed create request with the seed response shape, secret shown once', async () => {
    const response = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['wallet.balance_low'] });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    // Every key of the seed's example response, with the same types.
    expect(body).toMatchObject({
      org_id: ORG_ID,
      url: receiver.url,
      events: ['wallet.balance_low'],
      active: true,
      api_version: '2026-04-01',
      deleted_at: null,
      secret_displayed_once: true,
    });
    for (const key of ['id', 'created_at', 'updated_at', 'secret']) expect(typeof body[key]).toBe('string');
    // "returned in the secret field exactly once (base64-encoded)"
    expect(body.secret).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(body.secret as string, 'base64').length).toBeGreaterThanOrEqual(24);
    secret = body.secret as string;

    const list = (await (await api('GET', '/v1/webhooks')).json()) as { data: Record<string, unknown>[] };
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).not.toHaveProperty('secret');
  });

  it('scopes keys: no key is 401, a read-only key cannot write (403), both in the seed envelope', async () => {
    const anonymous = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['wallet.balance_low'] }, null);
    expect(anonymous.status).toBe(401);
    const unauthorized = (await anonymous.json()) as { success: boolean; error: Record<string, unknown> };
    expect(unauthorized).toMatchObject({ success: false, error: { code: 'UNAUTHORIZED' } });
    expect(typeof unauthorized.error.request_id).toBe('string');

    const forged = await api('GET', '/v1/webhooks', undefined, 'am_live_not_a_key_anyone_issued');
    expect(forged.status).toBe(401);

    const readOnly = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['wallet.balance_low'] }, readOnlyKey);
    expect(readOnly.status).toBe(403);
    expect(await readOnly.json()).toMatchObject({ success: false, error: { code: 'FORBIDDEN' } });
    expect((await api('GET', '/v1/webhooks', undefined, readOnlyKey)).status).toBe(200);
  });

  it('validates as the seed says: url scheme, known events, description length', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://hooks.example.com/y3labs/ops', events: ['wallet.balance_low'] }, 'url'],
      [{ url: receiver.url, events: ['wallet.balance_low', 'wallet.balance_low'] }, 'events'],
      [{ url: receiver.url, events: ['wallet.exploded'] }, 'events'],
      [{ url: receiver.url, events: ['wallet.balance_low'], description: 'x'.repeat(201) }, 'description'],
      [{ url: receiver.url, events: ['wallet.balance_low'], api_version: '1999-01-01' }, 'api_version'],
    ];
    for (const [body, field] of cases) {
      const response = await api('POST', '/v1/webhooks', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(await response.json()).toMatchObject({ success: false, error: { code: 'VALIDATION_FAILED', details: { [field]: expect.any(String) } } });
    }
  });

  it('emits wallet.balance_low once when spending crosses the threshold, signed so the standardwebhooks library verifies it', async () => {
    const invalid = await api('POST', '/v1/messages', { to: '555-0100', body: '' });
    expect(invalid.status).toBe(422);
    // The seed's own validation example.
    expect(await invalid.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: { to: 'must be E.164', body: 'must be 1..1600 chars' } } });

    for (const path of ['/v1/messages', '/v1/webhooks']) {
      const malformed = await fetch(`${host.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${fullKey}`, 'content-type': 'application/json' }, body: '{"to": ' });
      expect(malformed.status, path).toBe(400);
      expect(await malformed.json()).toMatchObject({ success: false, error: { code: 'BAD_REQUEST' } });
    }
    const nowhere = await api('GET', '/v1/nowhere');
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toMatchObject({ success: false, error: { code: 'NOT_FOUND' } });

    expect((await api('POST', '/v1/messages', { to: '+14155550100', body: 'hello' })).status).toBe(202); // 600 → 500
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(0);
    expect((await api('POST', '/v1/messages', { to: '+14155550100', body: 'hello again' })).status).toBe(202); // 500 → 400
    expect((await api('POST', '/v1/messages', { to: '+14155550100', body: 'and again' })).status).toBe(202); // 400 → 300

    const [request] = await receiver.waitFor(1, 15_000);
    const verified = new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>) as Record<string, unknown>;
    expect(verified).toMatchObject({ type: 'wallet.balance_low', data: { org_id: ORG_ID, balance_cents: 400, threshold_cents: 500, currency: 'USD' } });
    expect(request!.headers['webhook-id']).toBe(verified.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(1);
    expect(await (await api('GET', '/v1/wallet')).json()).toEqual({ balance_cents: 300, currency: 'USD', low_balance_threshold_cents: 500 });
    expect((await api('GET', '/v1/wallet', undefined, readOnlyKey)).status).toBe(403);
  });

  it('caps an organization at 50 endpoints with 409 LIMIT_EXCEEDED', async () => {
    const creates = Array.from({ length: 49 }, (_, i) => api('POST', '/v1/webhooks', { url: `${receiver.url}/${i}`, events: ['wallet.balance_low'] }));
    expect((await Promise.all(creates)).map((r) => r.status)).toEqual(Array(49).fill(201));
    const over = await api('POST', '/v1/webhooks', { url: receiver.url, events: ['wallet.balance_low'] });
    expect(over.status).toBe(409);
    expect(await over.json()).toMatchObject({ success: false, error: { code: 'LIMIT_EXCEEDED' } });
  });
});
