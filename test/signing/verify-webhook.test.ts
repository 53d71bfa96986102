import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/options.js';
import { WebhookVerificationError, isWebhookVerificationError, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import { eventBody, newSecret, signInput, thrown } from './fixtures.js';

const scheme = standardWebhooks();

function signed(overrides: Parameters<typeof signInput>[0] = {}) {
  const input = signInput(overrides);
  return { input, headers: scheme.sign(input), secret: input.secrets[0] as string };
}

function failure(fn: () => unknown): WebhookVerificationError {
  const error = thrown(fn);
  expect(isWebhookVerificationError(error)).toBe(true);
  return error as WebhookVerificationError;
}

/** A Standard Webhooks signature computed independently of src/, over raw bytes. */
function oracleSignature(secret: string, id: string, timestamp: number, body: Uint8Array): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

describe('verifyWebhook', () => {
  it('returns exactly { id, type, data, createdAt } of the body', () => {
    const body = JSON.stringify({ id: 'evt_1', type: 'execution.completed', data: { n: 1 }, createdAt: '2026-03-15T10:30:00Z', extra: true });
    const { headers, secret } = signed({ body });
    expect(verifyWebhook({ payload: body, headers, secret })).toStrictEqual({ id: 'evt_1', type: 'execution.completed', data: { n: 1 }, createdAt: '2026-03-15T10:30:00Z' });
  });

  it('accepts the body as string, Buffer or plain Uint8Array, and headers as object, Headers, or mixed case', () => {
    const { input, headers, secret } = signed();
    const bytes = new TextEncoder().encode(input.body);
    const capitalised = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/(^|-)[a-z]/g, (m) => m.toUpperCase()), v]));
    expect(Object.keys(capitalised)).toContain('Webhook-Id');
    for (const payload of [input.body, Buffer.from(input.body), bytes]) {
      for (const h of [headers, new Headers(headers), capitalised]) {
        expect(verifyWebhook({ payload, headers: h, secret }).id).toBe(JSON.parse(input.body).id);
      }
    }
  });

  it('rejects a tampered body and a wrong secret with BAD_SIGNATURE', () => {
    const { input, headers, secret } = signed();
    expect(failure(() => verifyWebhook({ payload: input.body.replace('completed', 'failed'), headers, secret })).code).toBe('BAD_SIGNATURE');
    expect(failure(() => verifyWebhook({ payload: input.body, headers, secret: newSecret() })).code).toBe('BAD_SIGNATURE');
    expect(failure(() => verifyWebhook({ payload: input.body, headers: { ...headers, 'webhook-id': 'evt_other' }, secret })).code).toBe('BAD_SIGNATURE');
  });

  it('accepts a header with several signatures when one is valid, ignoring other versions', () => {
    const { headers, input, secret } = signed();
    const forged = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
    const sig = headers['webhook-signature'] as string;
    for (const value of [`${forged} ${sig}`, `${sig} ${forged}`, `v1a,${'A'.repeat(86)}== ${sig}`, `v2,abc ${sig} v1,short`]) {
      expect(verifyWebhook({ payload: input.body, headers: { ...headers, 'webhook-signature': value }, secret }).id).toBeTypeOf('string');
    }
    expect(failure(() => verifyWebhook({ payload: input.body, headers: { ...headers, 'webhook-signature': `${forged} ${forged}` }, secret })).code).toBe('BAD_SIGNATURE');
  });

  it('accepts any secret of a list (rotation), and a list whose first secret is the wrong one', () => {
    const { input, headers, secret } = signed();
    expect(verifyWebhook({ payload: input.body, headers, secret: [newSecret(), secret] }).type).toBe('execution.completed');
  });

  it('enforces the tolerance on both sides, inclusive at the edge, with a custom tolerance', () => {
    const { input, headers, secret } = signed({ timestamp: 1_800_000_000 });
    const at = (seconds: number, toleranceSeconds?: number) => () =>
      verifyWebhook({ payload: input.body, headers, secret, now: seconds * 1000, ...(toleranceSeconds === undefined ? {} : { toleranceSeconds }) });
    expect(at(1_800_000_300)().id).toBeTypeOf('string');
    expect(at(1_799_999_700)().id).toBeTypeOf('string');
    expect(failure(at(1_800_000_301)).code).toBe('TIMESTAMP_TOO_OLD');
    expect(failure(at(1_799_999_699)).code).toBe('TIMESTAMP_TOO_NEW');
    expect(failure(at(1_800_000_011, 10)).code).toBe('TIMESTAMP_TOO_OLD');
    expect(verifyWebhook({ payload: input.body, headers, secret, now: new Date(1_800_000_010_999) }).id).toBeTypeOf('string');
  });

  it('reports each missing header as MISSING_HEADERS, naming it', () => {
    const { input, headers, secret } = signed();
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const h: Record<string, string> = { ...headers };
      delete h[name];
      const error = failure(() => verifyWebhook({ payload: input.body, headers: h, secret }));
      expect(error.code).toBe('MISSING_HEADERS');
      expect(error.message).toContain(name);
      h[name] = '';
      expect(failure(() => verifyWebhook({ payload: input.body, headers: h, secret })).code).toBe('MISSING_HEADERS');
    }
    expect(failure(() => verifyWebhook({ payload: input.body, headers: {}, secret })).code).toBe('MISSING_HEADERS');
  });

  it('turns garbled headers into a WebhookVerificationError, never another error', () => {
    const { input, headers, secret } = signed();
    const cases: [Record<string, unknown> | null, string][] = [
      [{ ...headers, 'webhook-timestamp': 'yesterday' }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-timestamp': `${headers['webhook-timestamp']}abc` }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-timestamp': '1.5' }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-timestamp': '-1' }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-timestamp': '9'.repeat(400) }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-timestamp': 1 }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-id': { toString: () => 'x' } }, 'MISSING_HEADERS'],
      [{ ...headers, 'webhook-signature': 'v1' }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': 'v1,' }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': `v1,${'!'.repeat(44)}` }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': `v1,${'é'.repeat(44)}` }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': '\u0000\uffff' }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': ' '.repeat(10_000) }, 'BAD_SIGNATURE'],
      [{ ...headers, 'webhook-signature': [] }, 'MISSING_HEADERS'],
      [null, 'MISSING_HEADERS'],
    ];
    for (const [h, code] of cases) {
      expect(failure(() => verifyWebhook({ payload: input.body, headers: h as never, secret })).code).toBe(code);
    }
  });

  it('joins a repeated header given as an array, like Headers#get does', () => {
    const { input, headers, secret } = signed();
    expect(verifyWebhook({ payload: input.body, headers: { ...headers, 'webhook-signature': [headers['webhook-signature'] as string] }, secret }).id).toBeTypeOf('string');
    const repeated = { ...headers, 'webhook-signature': [`v1,${Buffer.alloc(32).toString('base64')}`, headers['webhook-signature'] as string] };
    expect(verifyWebhook({ payload: input.body, headers: repeated, secret }).id).toBeTypeOf('string');
  });

  it('verifies unicode bodies as string and as bytes', () => {
    const body = eventBody({ text: 'Zürich — 東京 — 🚀🚀 — \u{1F468}\u200D\u{1F469}\u200D\u{1F467} — e\u0301 — \u202Eevil' });
    const { headers, secret } = signed({ body });
    expect(verifyWebhook({ payload: body, headers, secret }).data).toEqual(JSON.parse(body).data);
    expect(verifyWebhook({ payload: Buffer.from(body, 'utf8'), headers, secret }).data).toEqual(JSON.parse(body).data);
  });

  it('signs over the raw bytes: a non-UTF-8 body with a valid signature is BAD_PAYLOAD, not lossily decoded', () => {
    const secret = newSecret();
    const ts = Math.floor(Date.now() / 1000);
    const binary = new Uint8Array([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]);
    const headers = { 'webhook-id': 'msg_bin', 'webhook-timestamp': String(ts), 'webhook-signature': oracleSignature(secret, 'msg_bin', ts, binary) };
    expect(failure(() => verifyWebhook({ payload: binary, headers, secret })).code).toBe('BAD_PAYLOAD');
    // The same bytes as a lossy string no longer match the signature.
    expect(failure(() => verifyWebhook({ payload: Buffer.from(binary).toString('utf8'), headers, secret })).code).toBe('BAD_SIGNATURE');
  });

  it('gives BAD_PAYLOAD for a correctly signed body that is not a webhook event', () => {
    for (const body of ['', 'not json', '[]', 'null', '"evt_1"', '{"id":"evt_1","type":"t","createdAt":"x"}', '{"id":1,"type":"t","data":{},"createdAt":"x"}']) {
      const { headers, secret } = signed({ body });
      expect(failure(() => verifyWebhook({ payload: body, headers, secret })).code).toBe('BAD_PAYLOAD');
    }
  });

  it('explains BAD_PAYLOAD when handed a parsed body instead of the raw one', () => {
    const { input, headers, secret } = signed();
    const error = failure(() => verifyWebhook({ payload: JSON.parse(input.body), headers, secret }));
    expect(error.code).toBe('BAD_PAYLOAD');
    expect(error.message).toMatch(/raw request body/);
  });

  it('never puts a secret in an error message', () => {
    const { input, headers, secret } = signed();
    const keyPart = secret.slice('whsec_'.length);
    const errors = [
      thrown(() => verifyWebhook({ payload: 'x', headers, secret })),
      thrown(() => verifyWebhook({ payload: input.body, headers: {}, secret })),
      thrown(() => verifyWebhook({ payload: input.body, headers, secret, now: 0 })),
      thrown(() => verifyWebhook({ payload: input.body, headers, secret: 'whsec_' })),
      thrown(() => verifyWebhook({ payload: input.body, headers, secret: [secret, ''] })),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).not.toContain(keyPart);
      expect(String((error as Error).stack)).not.toContain(keyPart);
    }
  });

  it('rejects a misconfigured receiver with InvalidOptionsError, not a verification failure', () => {
    const { input, headers, secret } = signed();
    expect(() => verifyWebhook({ payload: input.body, headers, secret: [] })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret: undefined as never })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret, toleranceSeconds: -1 })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret, toleranceSeconds: Number.NaN })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret, now: new Date('nope') })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret, scheme: { name: 'x', sign: () => ({}) } as never })).toThrow(InvalidOptionsError);
    expect(() => verifyWebhook({ payload: input.body, headers, secret: 'whsec_' })).toThrow(TypeError);
  });
});
