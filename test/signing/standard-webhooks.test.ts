import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import { WebhookVerificationError, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import { eventBody, newSecret, signInput, thrown } from './fixtures.js';

const scheme = standardWebhooks();

describe('standardWebhooks() sending', () => {
  it('sends webhook-id = the event id, webhook-timestamp = attempt seconds, one v1 signature per secret', () => {
    const input = signInput({ timestamp: 1710547200, secrets: [newSecret(), newSecret()] });
    const headers = scheme.sign(input);
    expect(Object.keys(headers).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(headers['webhook-id']).toBe(input.eventId);
    expect(headers['webhook-timestamp']).toBe('1710547200');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it('matches the Standard Webhooks spec test vector', () => {
    // From the spec's reference libraries: msg_p5jXN8AQM9LWM0D4loKWxJek, 1614265330, this secret and body.
    const headers = scheme.sign({
      endpointId: 'wh_x',
      eventId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('refuses to sign with a secret that has no key material, with InvalidOptionsError', () => {
    for (const bad of ['whsec_', 'whsec_!!!!', '']) {
      const error = thrown(() => scheme.sign(signInput({ secrets: [newSecret(), bad] })));
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toMatch(/secret/);
    }
  });

  it('keeps the same webhook-id across retries while the timestamp moves', () => {
    const input = signInput();
    const first = scheme.sign(input);
    const retry = scheme.sign({ ...input, timestamp: input.timestamp + 30 });
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
  });

  it('signs a fractional timestamp as the whole second it sends', () => {
    const input = signInput({ timestamp: 1710547200.9 });
    const headers = scheme.sign(input);
    expect(headers['webhook-timestamp']).toBe('1710547200');
    expect(headers).toEqual(scheme.sign({ ...input, timestamp: 1710547200 }));
  });
});

describe('interop with the standardwebhooks and svix npm verifiers', () => {
  it('their verifiers accept our signature, for every secret of a rotated endpoint', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const input = signInput({ secrets: [current, previous] });
    const headers = scheme.sign(input);
    const parsed = JSON.parse(input.body);
    for (const secret of [current, previous]) {
      expect(new StandardWebhook(secret).verify(input.body, headers)).toEqual(parsed);
      expect(new SvixWebhook(secret).verify(input.body, headers)).toEqual(parsed);
      expect(new SvixWebhook(secret).verify(Buffer.from(input.body), headers)).toEqual(parsed);
    }
    expect(() => new StandardWebhook(newSecret()).verify(input.body, headers)).toThrow();
  });

  it('their verifiers accept our signature for a secret without the whsec_ prefix', () => {
    const secret = newSecret('');
    const input = signInput({ secrets: [secret] });
    expect(new StandardWebhook(secret).verify(input.body, scheme.sign(input))).toEqual(JSON.parse(input.body));
  });

  it('their verifiers accept unicode bodies we signed', () => {
    const input = signInput({ body: eventBody({ output: 'Ünïcödé — 日本語 — 🚀 — e\u0301', rtl: 'مرحبا' }) });
    const headers = scheme.sign(input);
    expect(new StandardWebhook(input.secrets[0] as string).verify(input.body, headers)).toEqual(JSON.parse(input.body));
    expect(new SvixWebhook(input.secrets[0] as string).verify(Buffer.from(input.body, 'utf8'), headers)).toEqual(JSON.parse(input.body));
  });

  it('we accept what standardwebhooks signs', () => {
    const secret = newSecret();
    const body = eventBody({ output: 'I’d be happy to help… 🚀' });
    const now = new Date();
    const headers = {
      'webhook-id': 'msg_2x8YtQ',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new StandardWebhook(secret).sign('msg_2x8YtQ', now, body),
    };
    expect(verifyWebhook({ payload: body, headers, secret })).toEqual(JSON.parse(body));
    expect(verifyWebhook({ payload: Buffer.from(body), headers, secret })).toEqual(JSON.parse(body));
  });

  it('we accept what svix signs, under webhook-* and svix-* header names', () => {
    const secret = newSecret();
    const body = eventBody();
    const now = new Date();
    const signature = new SvixWebhook(secret).sign('msg_svix1', now, body);
    const timestamp = String(Math.floor(now.getTime() / 1000));
    const standardNames = { 'webhook-id': 'msg_svix1', 'webhook-timestamp': timestamp, 'webhook-signature': signature };
    const svixNames = { 'svix-id': 'msg_svix1', 'svix-timestamp': timestamp, 'svix-signature': signature };
    expect(verifyWebhook({ payload: body, headers: standardNames, secret }).id).toBe(JSON.parse(body).id);
    expect(verifyWebhook({ payload: body, headers: svixNames, secret }).id).toBe(JSON.parse(body).id);
  });

  it('we reject what they signed with another secret', () => {
    const body = eventBody();
    const now = new Date();
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new StandardWebhook(newSecret()).sign('msg_1', now, body),
    };
    const error = thrown(() => verifyWebhook({ payload: body, headers, secret: newSecret() }));
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as WebhookVerificationError).code).toBe('BAD_SIGNATURE');
  });
});
