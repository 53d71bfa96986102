import fc from 'fast-check';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, hmacSha256Hex, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import { newSecret } from './fixtures.js';

const secretArb = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`);
const eventArb = fc.record({
  id: fc.string({ minLength: 1, maxLength: 40 }),
  type: fc.constantFrom('execution.completed', 'tool.error', 'agent.deleted'),
  data: fc.jsonValue({ maxDepth: 3 }),
  createdAt: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
});
const attemptArb = fc.record({
  event: eventArb,
  eventId: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s !== ''),
  timestamp: fc.integer({ min: 1, max: 9_999_999_999 }),
  secrets: fc.array(secretArb, { minLength: 1, maxLength: 3 }),
  skew: fc.integer({ min: -300, max: 300 }),
});

function fails(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return true;
    throw error;
  }
}

describe('properties', () => {
  it('standard webhooks: sign → verify returns the event, with any active secret, as string or bytes', () => {
    fc.assert(
      fc.property(attemptArb, fc.nat(), ({ event, eventId, timestamp, secrets, skew }, pick) => {
        const body = JSON.stringify(event);
        const headers = standardWebhooks().sign({ endpointId: 'wh_1', eventId, timestamp, body, secrets });
        const secret = secrets[pick % secrets.length] as string;
        const now = (timestamp + skew) * 1000;
        expect(verifyWebhook({ payload: body, headers, secret, now })).toStrictEqual(JSON.parse(body));
        expect(verifyWebhook({ payload: Buffer.from(body), headers, secret: [newSecret(), secret], now }).id).toBe(event.id);
      }),
      { numRuns: 150 },
    );
  });

  it('standard webhooks: the standardwebhooks library accepts any body we sign', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\s,]/.test(s)), secretArb, (text, id, secret) => {
        const body = JSON.stringify({ text });
        const headers = standardWebhooks().sign({ endpointId: 'wh_1', eventId: id, timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] });
        expect(new StandardWebhook(secret).verify(body, headers)).toEqual({ text });
      }),
      { numRuns: 100 },
    );
  });

  it('valid headers with any values overwritten, as a plain object, a Map or a .get object, fail only with WebhookVerificationError', () => {
    const names = fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'Webhook-Signature', 'svix-signature', 'X-Webhook-Timestamp', 'X-Webhook-Signature', 'get');
    const value = fc.oneof(fc.anything(), fc.array(fc.string()), fc.string().map((s) => `v1,${s}`), fc.integer());
    const shape = fc.constantFrom('object' as const, 'map' as const, 'get' as const);
    const secret = newSecret();
    const body = JSON.stringify({ id: 'evt_1', type: 't', data: {}, createdAt: 'x' });
    const timestamp = Math.floor(Date.now() / 1000);
    const schemes = [standardWebhooks(), hmacSha256Hex()];
    const signedHeaders = Object.assign({}, ...schemes.map((scheme) => scheme.sign({ endpointId: 'wh_1', eventId: 'evt_1', timestamp, body, secrets: [secret] })));
    fc.assert(
      fc.property(fc.dictionary(names, value, { minKeys: 1 }), shape, (overrides, as) => {
        const values: Record<string, unknown> = { ...signedHeaders, ...overrides };
        const lowercase = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
        const headers = as === 'object' ? values : as === 'map' ? lowercase : { get: (name: string) => lowercase.get(name) };
        for (const scheme of schemes) {
          try {
            verifyWebhook({ payload: body, headers: headers as never, secret, scheme, now: timestamp * 1000 });
          } catch (error) {
            expect(error).toBeInstanceOf(WebhookVerificationError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('hex: sign → verify returns the event', () => {
    const scheme = hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' });
    fc.assert(
      fc.property(attemptArb, ({ event, timestamp, secrets, skew }) => {
        const body = JSON.stringify(event);
        const headers = scheme.sign({ endpointId: 'wh_1', eventId: 'evt_1', timestamp, body, secrets });
        expect(verifyWebhook({ payload: body, headers, secret: secrets[0] as string, scheme, now: (timestamp + skew) * 1000 })).toStrictEqual(JSON.parse(body));
      }),
      { numRuns: 100 },
    );
  });

  const bodyMutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  );

  function mutateBody(body: Buffer, m: { kind: 'flip' | 'insert' | 'delete'; at: number; bit?: number; byte?: number }): Buffer {
    const at = m.at % (body.length + (m.kind === 'insert' ? 1 : 0));
    if (m.kind === 'flip') {
      const copy = Buffer.from(body);
      copy[at] = (copy[at] as number) ^ (1 << (m.bit as number));
      return copy;
    }
    if (m.kind === 'insert') return Buffer.concat([body.subarray(0, at), Buffer.from([m.byte as number]), body.subarray(at)]);
    return Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
  }

  const headerMutation = fc.oneof(
    fc.record({ kind: fc.constant('id' as const), value: fc.string({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant('timestamp' as const), delta: fc.integer({ min: -300, max: 300 }).filter((d) => d !== 0) }),
    fc.record({ kind: fc.constant('signature-char' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
    fc.record({ kind: fc.constant('signature-cut' as const), at: fc.nat() }),
  );

  it('standard webhooks: any mutation of the body or of a header fails verification', () => {
    fc.assert(
      fc.property(attemptArb, fc.oneof(bodyMutation.map((m) => ({ on: 'body' as const, m })), headerMutation.map((m) => ({ on: 'header' as const, m }))), (attempt, mutation) => {
        const body = JSON.stringify(attempt.event);
        const secret = attempt.secrets[0] as string;
        const headers = standardWebhooks().sign({ endpointId: 'wh_1', eventId: attempt.eventId, timestamp: attempt.timestamp, body, secrets: [secret] });
        const now = attempt.timestamp * 1000;
        if (mutation.on === 'body') {
          const mutated = mutateBody(Buffer.from(body), mutation.m);
          fc.pre(!mutated.equals(Buffer.from(body)));
          expect(fails(() => verifyWebhook({ payload: mutated, headers, secret, now }))).toBe(true);
          return;
        }
        const m = mutation.m;
        const mutated = { ...headers };
        const sig = headers['webhook-signature'] as string;
        if (m.kind === 'id') mutated['webhook-id'] = m.value;
        if (m.kind === 'timestamp') mutated['webhook-timestamp'] = String(attempt.timestamp + m.delta);
        if (m.kind === 'signature-char') {
          const at = m.at % sig.length;
          mutated['webhook-signature'] = sig.slice(0, at) + m.char + sig.slice(at + 1);
        }
        if (m.kind === 'signature-cut') mutated['webhook-signature'] = sig.slice(0, m.at % sig.length);
        fc.pre(JSON.stringify(mutated) !== JSON.stringify(headers));
        expect(fails(() => verifyWebhook({ payload: body, headers: mutated, secret, now }))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('hex: any mutation of the body or of the signature header fails verification', () => {
    const scheme = hmacSha256Hex();
    fc.assert(
      fc.property(attemptArb, bodyMutation, fc.nat(), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }), (attempt, bodyM, at, char) => {
        const body = JSON.stringify(attempt.event);
        const secret = attempt.secrets[0] as string;
        const headers = scheme.sign({ endpointId: 'wh_1', eventId: 'evt_1', timestamp: attempt.timestamp, body, secrets: [secret] });
        const now = attempt.timestamp * 1000;
        const mutatedBody = mutateBody(Buffer.from(body), bodyM);
        if (!mutatedBody.equals(Buffer.from(body))) expect(fails(() => verifyWebhook({ payload: mutatedBody, headers, secret, scheme, now }))).toBe(true);
        const sig = headers['X-Webhook-Signature'] as string;
        const i = at % sig.length;
        const mutatedSig = sig.slice(0, i) + char + sig.slice(i + 1);
        if (mutatedSig !== sig) {
          expect(fails(() => verifyWebhook({ payload: body, headers: { ...headers, 'X-Webhook-Signature': mutatedSig }, secret, scheme, now }))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
