import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, WebhookError, isWebhookError, limitExceeded, notFound, validationFailed } from '../../src/errors.js';
import { decodeTime } from 'ulid';
import { ID_PREFIX, isId, newId, newUlid } from '../../src/ids.js';
import { ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation } from '../support/webhook-error-assertions.js';

// Issue 2: "`VALIDATION_FAILED` 422, `NOT_FOUND` 404, `LIMIT_EXCEEDED` 409, `UNAUTHORIZED` 401,
// `FORBIDDEN` 403 … One registry file maps codes to statuses."
describe('WebhookError', () => {
  it('maps the seed’s codes to their HTTP statuses in one registry', () => {
    expect(ERROR_STATUS).toMatchObject({ VALIDATION_FAILED: 422, NOT_FOUND: 404, LIMIT_EXCEEDED: 409, UNAUTHORIZED: 401, FORBIDDEN: 403 });
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const error = new WebhookError(code as keyof typeof ERROR_STATUS, 'x');
      expect(error.status).toBe(status);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe('WebhookError');
    }
  });

  it('serialises to { code, message, details? } and keeps its cause off the wire', () => {
    const cause = new Error('socket hang up: secret=abc');
    expect(JSON.parse(JSON.stringify(new WebhookError('NOT_FOUND', 'webhook endpoint not found', { cause })))).toEqual({ code: 'NOT_FOUND', message: 'webhook endpoint not found' });
    expect(new WebhookError('NOT_FOUND', 'x', { cause }).cause).toBe(cause);
    expect(validationFailed({ url: 'must use https' }).toJSON()).toEqual({ code: 'VALIDATION_FAILED', message: 'validation failed', details: { url: 'must use https' } });
    expect(notFound('delivery').message).toBe('delivery not found');
    expect(limitExceeded('too many')).toMatchObject({ code: 'LIMIT_EXCEEDED', status: 409 });
    expect(isWebhookError(notFound('x'))).toBe(true);
    expect(isWebhookError(new Error('x'))).toBe(false);
  });

  it('caps the unknown fields it reports, so a hostile body cannot inflate the error', async () => {
    const { service } = endpointService();
    const body: Record<string, unknown> = { ...VALID_INPUT };
    for (let i = 0; i < 10_000; i++) body[`junk_${i}`] = i;
    const error = await rejectsValidation(service.create(ORG, body as never), 'body', ...Array.from({ length: 20 }, (_, i) => `junk_${i}`));
    expect(error.details?.body).toMatch(/10000 unknown fields/);
  });
});

// DESIGN: "ids.ts: prefixed ULIDs (wh_, evt_, dlv_, att_)"; newest-first is id order.
describe('ids', () => {
  it('are prefixed ULIDs that sort by creation, even within one millisecond and with a clock going back', () => {
    const made = [newId('endpoint', 5_000), newId('endpoint', 5_000), newId('endpoint', 5_000), newId('endpoint', 4_000), newId('endpoint', 6_000)];
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
    for (const [kind, prefix] of Object.entries(ID_PREFIX)) {
      const id = newId(kind as keyof typeof ID_PREFIX);
      expect(id.startsWith(prefix)).toBe(true);
      expect(isId(kind as keyof typeof ID_PREFIX, id)).toBe(true);
    }
  });

  it('carry the time as the ulid package decodes it, over the whole 48-bit range', () => {
    // Strictly after anything generated so far, so each call starts a new millisecond.
    const base = Date.now() + 1_000_000;
    for (const offset of [0, 1, 31, 32, 1023, 86_400_000]) expect(decodeTime(newUlid(base + offset))).toBe(base + offset);
    // The ulid factory reads 0 and NaN as "now" and would stamp a negative time with the last one's.
    expect(() => newUlid(0)).toThrow(RangeError);
    expect(() => newUlid(-1)).toThrow(RangeError);
    expect(() => newUlid(2 ** 48)).toThrow(RangeError);
    expect(() => newUlid(1.5)).toThrow(RangeError);
    expect(() => newUlid(Number.NaN)).toThrow(RangeError);
  });

  it('strictly increase through 100,000 ids in one millisecond, carrying across Z', () => {
    const ids = Array.from({ length: 100_000 }, () => newUlid(5));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('draw every Crockford digit about equally often in every random position', () => {
    const counts = Array.from({ length: 16 }, () => new Map<string, number>());
    // A fresh millisecond per id, so each random part is new rather than the last one plus one.
    const start = Date.now() + 100 * 86_400_000;
    for (let i = 0; i < 32_000; i++) {
      const random = newUlid(start + i).slice(10);
      for (let p = 0; p < 16; p++) counts[p]!.set(random[p]!, (counts[p]!.get(random[p]!) ?? 0) + 1);
    }
    for (const position of counts) {
      expect(position.size).toBe(32);
      // 1,000 expected per digit; six standard deviations (about 186) either side.
      for (const n of position.values()) expect(Math.abs(n - 1000)).toBeLessThan(190);
    }
  });

  // Last: every id made after this one shares its millisecond.
  it('reach the last 48-bit millisecond', () => {
    expect(decodeTime(newUlid(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it('isId rejects other kinds, bad alphabets, wrong lengths and non-strings', () => {
    const id = newId('endpoint');
    expect(isId('delivery', id)).toBe(false);
    expect(isId('endpoint', id.toLowerCase())).toBe(false);
    expect(isId('endpoint', `${id}0`)).toBe(false);
    expect(isId('endpoint', id.replace(/.$/, 'U'))).toBe(false);
    for (const value of [undefined, null, 42, { id }, [id]]) expect(isId('endpoint', value)).toBe(false);
  });
});
