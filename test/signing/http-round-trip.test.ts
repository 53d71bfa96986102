import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookVerificationError, hmacSha256Hex, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import { eventBody, newSecret, nowSeconds } from './fixtures.js';

// A receiver written the way docs/signing.md tells hosts to: raw body, Node's req.headers, 400 on failure.
const secret = newSecret();
const yaScheme = hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' });
let server: Server;
let url: string;

async function rawBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const payload = await rawBody(req);
    const scheme = req.url === '/ya' ? yaScheme : standardWebhooks();
    try {
      const event = verifyWebhook({ payload, headers: req.headers, secret, scheme });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: event.id }));
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.code }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function post(path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

describe('over HTTP on 127.0.0.1', () => {
  it('a request carrying both header sets verifies under either scheme', async () => {
    const body = eventBody({ output: 'naïve café ☕' });
    const input = { endpointId: 'wh_1', eventId: 'evt_http1', timestamp: nowSeconds(), body, secrets: [secret] };
    const headers = { ...standardWebhooks().sign(input), ...yaScheme.sign(input) };
    expect(await post('/standard', body, headers)).toEqual({ status: 200, json: { received: JSON.parse(body).id } });
    expect(await post('/ya', body, headers)).toEqual({ status: 200, json: { received: JSON.parse(body).id } });
  });

  it('a tampered body, a stale timestamp or a missing header come back as 400 with the reason', async () => {
    const body = eventBody();
    const input = { endpointId: 'wh_1', eventId: 'evt_http2', timestamp: nowSeconds(), body, secrets: [secret] };
    const headers = standardWebhooks().sign(input);
    expect(await post('/standard', body.replace('completed', 'failed'), headers)).toEqual({ status: 400, json: { error: 'BAD_SIGNATURE' } });
    const stale = standardWebhooks().sign({ ...input, timestamp: input.timestamp - 600 });
    expect(await post('/standard', body, stale)).toEqual({ status: 400, json: { error: 'TIMESTAMP_TOO_OLD' } });
    const { 'webhook-signature': _dropped, ...unsigned } = headers;
    expect(await post('/standard', body, unsigned)).toEqual({ status: 400, json: { error: 'MISSING_HEADERS' } });
  });
});

describe('the Express receiver in docs/signing.md', () => {
  it('verifies a delivery read with express.raw and answers 400 with the code otherwise', async () => {
    const app = express();
    app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
      try {
        const event = verifyWebhook({ payload: req.body, headers: req.headers, secret });
        res.status(200).json({ received: event.id });
      } catch (error) {
        if (error instanceof WebhookVerificationError) return res.status(400).json({ error: error.code });
        throw error;
      }
    });
    const expressServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const base = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}/webhooks`;
      const body = eventBody();
      const headers = standardWebhooks().sign({ endpointId: 'wh_1', eventId: 'evt_x', timestamp: nowSeconds(), body, secrets: [secret] });
      const ok = await fetch(base, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      expect([ok.status, await ok.json()]).toEqual([200, { received: JSON.parse(body).id }]);
      const bad = await fetch(base, { method: 'POST', body: body.replace('completed', 'failed'), headers: { 'content-type': 'application/json', ...headers } });
      expect([bad.status, await bad.json()]).toEqual([400, { error: 'BAD_SIGNATURE' }]);
    } finally {
      await new Promise<void>((resolve) => expressServer.close(() => resolve()));
    }
  });
});
