import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import { WebhookVerificationError, hmacSha256Hex, verifyWebhook } from '../../src/signing/index.js';
import { eventBody, newSecret, nowSeconds, signInput, thrown } from './fixtures.js';

// The YourAutomation seed's "Node.js verification" snippet, verbatim (yourautomation-webhooks.txt).
import crypto from "crypto";
function verifySignature(payload: string, signature: string, secret: string) {
const expected = crypto
.createHmac("sha256", secret)
.update(payload)
.digest("hex");
return crypto.timingSafeEqual(
Buffer.from(signature.replace("sha256=", "")),
Buffer.from(expected)
);
}

const seedScheme = hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' });

function codeOf(fn: () => unknown): string {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return (error as WebhookVerificationError).code;
}

describe('hmacSha256Hex() sending', () => {
  it('sends the seed headers: X-YA-Webhook-Id (endpoint id), -Timestamp (unix seconds), -Signature: sha256=<hex>', () => {
    const input = signInput({ timestamp: 1710547200 });
    const headers = seedScheme.sign(input);
    expect(Object.keys(headers).sort()).toEqual(['X-YA-Webhook-Id', 'X-YA-Webhook-Signature', 'X-YA-Webhook-Timestamp']);
    expect(headers['X-YA-Webhook-Id']).toBe(input.endpointId);
    expect(headers['X-YA-Webhook-Timestamp']).toBe('1710547200');
    expect(headers['X-YA-Webhook-Signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('defaults the header prefix to X-Webhook', () => {
    expect(Object.keys(hmacSha256Hex().sign(signInput())).sort()).toEqual(['X-Webhook-Id', 'X-Webhook-Signature', 'X-Webhook-Timestamp']);
  });

  it("the seed's snippet accepts our signature, for ASCII and unicode bodies", () => {
    for (const body of [eventBody(), eventBody({ output: "I'd be happy to help... ✓ 日本語 🚀" })]) {
      const input = signInput({ body });
      const headers = seedScheme.sign(input);
      expect(verifySignature(input.body, headers['X-YA-Webhook-Signature'] as string, input.secrets[0] as string)).toBe(true);
    }
  });

  it("the seed's snippet rejects a tampered body or another secret", () => {
    const input = signInput();
    const signature = seedScheme.sign(input)['X-YA-Webhook-Signature'] as string;
    expect(verifySignature(input.body.replace('completed', 'failed!!!'), signature, input.secrets[0] as string)).toBe(false);
    expect(verifySignature(input.body, signature, newSecret())).toBe(false);
  });

  it('carries one signature, made with the newest secret', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const input = signInput({ secrets: [current, previous] });
    const signature = seedScheme.sign(input)['X-YA-Webhook-Signature'] as string;
    expect(verifySignature(input.body, signature, current)).toBe(true);
    expect(verifySignature(input.body, signature, previous)).toBe(false);
  });

  it('refuses to sign with an empty secret, with InvalidOptionsError', () => {
    expect(() => seedScheme.sign(signInput({ secrets: [''] }))).toThrow(InvalidOptionsError);
  });

  it('rejects a header prefix that cannot form header names', () => {
    for (const headerPrefix of ['', 'X Webhook', 'X-Webhook-', '-X', 'X:Y', 'Ünï']) {
      expect(() => hmacSha256Hex({ headerPrefix })).toThrow(InvalidOptionsError);
    }
  });
});

describe('hmacSha256Hex() receiving', () => {
  it('verifies with the same scheme object, in any header case, and returns the event', () => {
    const input = signInput();
    const headers = seedScheme.sign(input);
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    for (const h of [headers, lower, new Headers(headers)]) {
      expect(verifyWebhook({ payload: input.body, headers: h, secret: input.secrets, scheme: seedScheme })).toEqual(JSON.parse(input.body));
    }
  });

  it('accepts a signature made with any secret in the list (receiver-side rotation)', () => {
    const [current, previous] = [newSecret(), newSecret()];
    const input = signInput({ secrets: [previous] });
    const headers = seedScheme.sign(input);
    expect(verifyWebhook({ payload: input.body, headers, secret: [current, previous], scheme: seedScheme }).id).toBe(JSON.parse(input.body).id);
  });

  it('rejects tampered bodies and other secrets with BAD_SIGNATURE', () => {
    const input = signInput();
    const headers = seedScheme.sign(input);
    expect(codeOf(() => verifyWebhook({ payload: `${input.body} `, headers, secret: input.secrets, scheme: seedScheme }))).toBe('BAD_SIGNATURE');
    expect(codeOf(() => verifyWebhook({ payload: input.body, headers, secret: newSecret(), scheme: seedScheme }))).toBe('BAD_SIGNATURE');
  });

  it('requires exactly "sha256=" and 64 lowercase hex digits', () => {
    const input = signInput();
    const headers = seedScheme.sign(input);
    const signature = headers['X-YA-Webhook-Signature'] as string;
    for (const garbled of [signature.slice(7), signature.toUpperCase(), `SHA256=${signature.slice(7)}`, `${signature}0`, signature.slice(0, -1), `sha256=${'z'.repeat(64)}`, 'sha256=']) {
      const h = { ...headers, 'X-YA-Webhook-Signature': garbled };
      expect(codeOf(() => verifyWebhook({ payload: input.body, headers: h, secret: input.secrets, scheme: seedScheme }))).toBe('BAD_SIGNATURE');
    }
  });

  it('enforces the tolerance on the timestamp header although the HMAC does not cover it', () => {
    const input = signInput();
    const headers = seedScheme.sign(input);
    const at = (offset: number) => ({ ...headers, 'X-YA-Webhook-Timestamp': String(input.timestamp + offset) });
    const verify = (h: Record<string, string>) => verifyWebhook({ payload: input.body, headers: h, secret: input.secrets, scheme: seedScheme });
    expect(codeOf(() => verify(at(-301)))).toBe('TIMESTAMP_TOO_OLD');
    expect(codeOf(() => verify(at(+301)))).toBe('TIMESTAMP_TOO_NEW');
    // The documented limit of this scheme: a replayed body with a fresh timestamp header still verifies.
    expect(verify(at(-200)).id).toBe(JSON.parse(input.body).id);
  });

  it('reports missing headers; the id header is not needed to verify', () => {
    const input = signInput();
    const { 'X-YA-Webhook-Id': _id, ...withoutId } = seedScheme.sign(input);
    expect(verifyWebhook({ payload: input.body, headers: withoutId, secret: input.secrets, scheme: seedScheme }).type).toBe('execution.completed');
    for (const name of ['X-YA-Webhook-Timestamp', 'X-YA-Webhook-Signature']) {
      const h: Record<string, string> = { ...withoutId };
      delete h[name];
      expect(codeOf(() => verifyWebhook({ payload: input.body, headers: h, secret: input.secrets, scheme: seedScheme }))).toBe('MISSING_HEADERS');
    }
    // Headers of the default prefix do not satisfy a scheme configured with another one.
    const defaultPrefixed = hmacSha256Hex().sign(input);
    expect(codeOf(() => verifyWebhook({ payload: input.body, headers: defaultPrefixed, secret: input.secrets, scheme: seedScheme }))).toBe('MISSING_HEADERS');
  });

  it('keys the HMAC with the whole secret string, prefix included', () => {
    const secret = newSecret();
    const body = eventBody();
    const signature = `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
    const headers = { 'X-YA-Webhook-Signature': signature, 'X-YA-Webhook-Timestamp': String(nowSeconds()) };
    expect(verifyWebhook({ payload: body, headers, secret, scheme: seedScheme }).id).toBe(JSON.parse(body).id);
  });
});
