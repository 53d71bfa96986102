import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import { WebhookVerificationError, hmacSha256Hex, isWebhookVerificationError, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
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

  it('finds the valid signature first, in the middle or last of a repeated header, as array, Headers#append or joined string', () => {
    const { headers, input, secret } = signed();
    const valid = headers['webhook-signature'] as string;
    const forged = (n: number) => `v1,${Buffer.alloc(32, n).toString('base64')}`;
    const orders = [
      [valid, forged(1), forged(2)],
      [forged(1), valid, forged(2)],
      [forged(1), forged(2), valid],
    ];
    for (const values of orders) {
      const appended = new Headers(headers);
      appended.delete('webhook-signature');
      for (const value of values) appended.append('webhook-signature', value);
      const shapes = [
        { ...headers, 'webhook-signature': values },
        appended,
        // Node's req.headers joins repeats with ", "; some proxies join with "," alone.
        { ...headers, 'webhook-signature': values.join(', ') },
        { ...headers, 'webhook-signature': values.join(',') },
      ];
      for (const h of shapes) expect(verifyWebhook({ payload: input.body, headers: h, secret }).id).toBeTypeOf('string');
    }
    const onlyForged = new Headers(headers);
    onlyForged.set('webhook-signature', forged(1));
    onlyForged.append('webhook-signature', forged(2));
    expect(failure(() => verifyWebhook({ payload: input.body, headers: onlyForged, secret })).code).toBe('BAD_SIGNATURE');
    // A trailing comma is a separator, not part of the base64.
    expect(failure(() => verifyWebhook({ payload: input.body, headers: { ...headers, 'webhook-signature': `${valid.slice(0, -1)},` }, secret })).code).toBe('BAD_SIGNATURE');
  });

  it('type-checks what a .get method returns (Map, custom objects) as it does plain-object values', () => {
    const { headers, input, secret } = signed();
    const withSignature = (value: unknown) => new Map<string, unknown>([...Object.entries(headers), ['webhook-signature', value]]);
    expect(verifyWebhook({ payload: input.body, headers: withSignature([headers['webhook-signature']]) as never, secret }).id).toBeTypeOf('string');
    const forged = `v1,${Buffer.alloc(32, 3).toString('base64')}`;
    expect(verifyWebhook({ payload: input.body, headers: withSignature([headers['webhook-signature'], forged]) as never, secret }).id).toBeTypeOf('string');
    for (const value of [42, { toString: () => headers['webhook-signature'] }, [1, 2], [], true, Symbol('s'), 10n, () => 'x']) {
      expect(failure(() => verifyWebhook({ payload: input.body, headers: withSignature(value) as never, secret })).code).toBe('MISSING_HEADERS');
    }
    const numericTimestamp = new Map<string, unknown>([...Object.entries(headers), ['webhook-timestamp', Number(headers['webhook-timestamp'])]]);
    expect(failure(() => verifyWebhook({ payload: input.body, headers: numericTimestamp as never, secret })).code).toBe('MISSING_HEADERS');
    const custom = { get: (name: string) => (name === 'webhook-id' ? ['evt', 'other'] : headers[name]) };
    expect(failure(() => verifyWebhook({ payload: input.body, headers: custom as never, secret })).code).toBe('BAD_SIGNATURE');
  });

  it('turns headers that throw when read into MISSING_HEADERS', () => {
    const { headers, input, secret } = signed();
    const boom = () => {
      throw new Error('boom');
    };
    const hostile: unknown[] = [
      { get: boom },
      { ...headers, get 'webhook-id'() {
        return boom();
      } },
      Object.defineProperty({}, 'get', { get: boom }),
      new Proxy({}, { ownKeys: boom, getOwnPropertyDescriptor: boom, get: boom, has: boom }),
      { ...headers, 'webhook-signature': new Proxy([headers['webhook-signature']], { get: boom }) },
      { get: () => new Proxy([], { get: boom }) },
    ];
    for (const h of hostile) {
      const error = failure(() => verifyWebhook({ payload: input.body, headers: h as never, secret }));
      expect(error.code).toBe('MISSING_HEADERS');
    }
  });

  it('rejects a payload of any non-raw type with BAD_PAYLOAD', () => {
    const { headers, secret } = signed();
    for (const payload of [42, null, undefined, true, 10n, Symbol('p'), new ArrayBuffer(4), [1, 2], () => '{}']) {
      expect(failure(() => verifyWebhook({ payload: payload as never, headers, secret })).code).toBe('BAD_PAYLOAD');
    }
  });

  it('rejects missing options with InvalidOptionsError, not a destructuring TypeError', () => {
    for (const options of [undefined, null, 'payload', 42]) {
      const error = thrown(() => verifyWebhook(options as never));
      expect(error).toBeInstanceOf(InvalidOptionsError);
    }
  });

  it('rejects a secret without key material with InvalidOptionsError naming the secret, wherever it sits in the list', () => {
    const { headers, input, secret } = signed();
    for (const bad of ['whsec_', 'whsec_!!!!', 'whsec_a', 'ya_live_']) {
      for (const secrets of [bad, [bad, secret], [secret, bad]]) {
        const error = thrown(() => verifyWebhook({ payload: input.body, headers, secret: secrets }));
        expect(error).toBeInstanceOf(InvalidOptionsError);
        expect((error as InvalidOptionsError).issues.map((i) => i.option)).toEqual(['secret']);
        expect((error as Error).message).toMatch(/no key|not valid base64|prefix other than 'whsec_'/);
        if (bad !== 'whsec_' && bad !== 'ya_live_') expect((error as Error).message).not.toContain(bad);
      }
    }
    expect(() => verifyWebhook({ payload: input.body, headers, secret: '' })).toThrow(InvalidOptionsError);
  });

  // Issue 25: "verifyWebhook ignores everything up to the last _ of the secret and decodes base64
  // leniently. So whsek_<key>, x_y_<key> and whsec_<key>junk all verify." Now each is refused.
  it('refuses a mistyped prefix, nested prefixes and text after the key, naming the problem and not the secret', () => {
    const { headers, input, secret } = signed();
    const key = secret.slice('whsec_'.length);
    const cases: [string, RegExp][] = [
      [`whsek_${key}`, /prefix other than 'whsec_'/],
      [`x_y_${key}`, /prefix other than 'whsec_'/],
      [`whsec_${key}junk`, /not valid base64/],
      [`whsec_${key}=`, /not valid base64/],
      [`whsec_${key.replace(/\+/g, '-').replace(/\//g, '-')}x`, /not valid base64/],
      [`whsec_ ${key}`, /not valid base64/],
    ];
    for (const [bad, problem] of cases) {
      const error = thrown(() => verifyWebhook({ payload: input.body, headers, secret: bad }));
      expect(error, bad).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message, bad).toMatch(problem);
      expect((error as Error).message).not.toContain(key.slice(0, 20));
    }
    // What the reference library accepts still verifies: whsec_ or no prefix, padding optional.
    for (const good of [secret, key, `whsec_${key.replace(/=+$/, '')}`]) expect(verifyWebhook({ payload: input.body, headers, secret: good }).id).toBe(JSON.parse(input.body).id);
  });

  it('hmacSha256Hex verifies secrets with its configured secretPrefix only', () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    const sign = (secret: string, scheme = hmacSha256Hex()) => scheme.sign({ endpointId: 'wh_1', eventId: 'evt_1', timestamp: Math.floor(Date.now() / 1000), body: eventBody(), secrets: [secret] });
    expect(verifyWebhook({ payload: eventBody(), headers: sign(`whsec_${key}`), secret: `whsec_${key}`, scheme: hmacSha256Hex() }).type).toBeTruthy();
    const ya = hmacSha256Hex({ secretPrefix: 'ya_' });
    expect(verifyWebhook({ payload: eventBody(), headers: sign(`ya_${key}`, ya), secret: `ya_${key}`, scheme: ya }).type).toBeTruthy();
    for (const [bad, scheme] of [[`ya_${key}`, hmacSha256Hex()], [`whsec_${key}`, ya], [`ya_${key}junk`, ya]] as const) {
      expect(() => verifyWebhook({ payload: eventBody(), headers: sign(bad, scheme), secret: bad, scheme }), bad).toThrow(InvalidOptionsError);
    }
    expect(() => hmacSha256Hex({ secretPrefix: 'ya-' })).toThrow(InvalidOptionsError);
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
    expect(() => verifyWebhook({ payload: input.body, headers, secret: 'whsec_' })).toThrow(InvalidOptionsError);
  });
});
