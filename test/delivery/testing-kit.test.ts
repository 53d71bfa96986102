import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { standardWebhooks } from '../../src/signing/index.js';
import { createTestReceiver, manualClock, type TestReceiver } from '../../src/testing/index.js';

describe('manualClock', () => {
  it('moves only when told to', () => {
    const clock = manualClock(new Date('2026-01-01T00:00:00Z'));
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(clock.advance('2m')).toBe(Date.parse('2026-01-01T00:02:00Z'));
    clock.advance(500);
    expect(clock.now()).toBe(Date.parse('2026-01-01T00:02:00.500Z'));
    clock.set(0);
    expect(clock.now()).toBe(0);
  });

  it('rejects what is not a time', () => {
    expect(() => manualClock(Number.NaN)).toThrow(TypeError);
    expect(() => manualClock().advance('soon')).toThrow(/not a duration/);
    // Outside what a Date holds, every timestamp made from the clock would be invalid.
    expect(() => manualClock(9e15)).toThrow(TypeError);
    expect(() => manualClock().set(-9e15)).toThrow(TypeError);
    const clock = manualClock(8.64e15 - 1000);
    expect(() => clock.advance('2s')).toThrow(TypeError);
    expect(clock.now()).toBe(8.64e15 - 1000);
  });
});

describe('createTestReceiver', () => {
  let receiver: TestReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  const post = (url: string, body = '{"a":1}') =>
    request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-test': 'yes' } });

  it('records headers and the raw body, answers 200 by default', async () => {
    receiver = await createTestReceiver();
    expect(receiver.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hook$/);
    const res = await post(receiver.url, '{"a": 1}');
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const [got] = receiver.requests;
    expect(got?.body).toBe('{"a": 1}');
    expect(got?.json).toEqual({ a: 1 });
    expect(got?.headers['x-test']).toBe('yes');
    expect(got?.verified).toBeUndefined();
  });

  it('fails the next N requests, then recovers', async () => {
    receiver = await createTestReceiver();
    receiver.failNext(2, 503);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(receiver.url);
      await res.body.dump();
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([503, 503, 200]);
  });

  it('answers Retry-After, redirects, and huge bodies', async () => {
    receiver = await createTestReceiver();
    receiver.retryAfterNext(7, 429);
    receiver.respondNext({ kind: 'redirect', location: 'http://127.0.0.1:1/elsewhere' });
    receiver.respondNext({ kind: 'huge', bytes: 300_000 });
    const a = await post(receiver.url);
    await a.body.dump();
    expect([a.statusCode, a.headers['retry-after']]).toEqual([429, '7']);
    const b = await post(receiver.url);
    await b.body.dump();
    expect([b.statusCode, b.headers.location]).toEqual([302, 'http://127.0.0.1:1/elsewhere']);
    const c = await post(receiver.url);
    expect((await c.body.arrayBuffer()).byteLength).toBe(300_000);
  });

  it('resets connections and hangs until released', async () => {
    receiver = await createTestReceiver();
    receiver.respondNext({ kind: 'reset' });
    await expect(post(receiver.url)).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) });
    receiver.respondNext({ kind: 'hang' });
    const pending = post(receiver.url);
    await receiver.waitFor(2);
    expect(receiver.releaseHung(201)).toBe(1);
    const res = await pending;
    await res.body.dump();
    expect(res.statusCode).toBe(201);
  });

  it('responds slowly and runs the verify hook', async () => {
    receiver = await createTestReceiver({ verify: (r) => r.headers['x-test'] === 'yes' });
    receiver.respondNext({ kind: 'slow', ms: 150 });
    const started = performance.now();
    const res = await post(receiver.url);
    await res.body.dump();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(receiver.requests[0]?.verified).toBe(true);
  });

  it('records the request when the verify hook throws, whatever it throws', async () => {
    const thrown: unknown[] = [null, 'bad signature', Object.create(null), Object.assign(new Error('boom'), { code: 'E_SIG' })];
    let next = 0;
    receiver = await createTestReceiver({
      verify: () => {
        throw thrown[next++];
      },
    });
    for (let i = 0; i < thrown.length; i++) {
      const res = await post(receiver.url);
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    }
    expect(receiver.requests.map((r) => [r.verified, r.verifyError])).toEqual([
      [false, 'null'],
      [false, 'bad signature'],
      [false, 'verify threw a value that cannot be described'],
      [false, 'E_SIG'],
    ]);
  });

  it('verifies signatures against the secret it is given', async () => {
    receiver = await createTestReceiver();
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    receiver.setSecret(secret);
    const body = '{"id":"evt_1","type":"a.b","data":{},"createdAt":"2026-01-01T00:00:00.000Z"}';
    const headers = standardWebhooks().sign({ endpointId: 'wh_1', eventId: 'evt_1', timestamp: Date.now() / 1000, body, secrets: [secret] });
    for (const sent of [body, body.replace('a.b', 'a.c')]) {
      const res = await request(receiver.url, { method: 'POST', body: sent, headers: { ...headers, 'content-type': 'application/json' } });
      await res.body.dump();
    }
    expect(receiver.requests.map((r) => [r.verified, r.verifyError])).toEqual([
      [true, undefined],
      [false, 'BAD_SIGNATURE'],
    ]);
  });

  it('counts requests in flight', async () => {
    receiver = await createTestReceiver();
    receiver.setDefault({ kind: 'slow', ms: 80 });
    const responses = await Promise.all([post(receiver.url), post(receiver.url), post(receiver.url)]);
    await Promise.all(responses.map((r) => r.body.dump()));
    expect(receiver.maxInFlight).toBe(3);
    expect(receiver.inFlight).toBe(0);
    receiver.clear();
    expect(receiver.maxInFlight).toBe(0);
  });

  it('waitFor rejects when the requests do not come', async () => {
    receiver = await createTestReceiver();
    await expect(receiver.waitFor(1, 50)).rejects.toThrow(/expected 1 requests/);
  });

  it('listens on ::1 when asked', async () => {
    receiver = await createTestReceiver({ host: '::1' });
    expect(receiver.url).toMatch(/^http:\/\/\[::1\]:\d+\/hook$/);
    const res = await post(receiver.url);
    await res.body.dump();
    expect(receiver.requests).toHaveLength(1);
  });
});
