import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, WebhookError, isWebhookError, limitExceeded, notFound, validationFailed } from '../../src/errors.js';
import { ID_PREFIX, isId, newId } from '../../src/ids.js';
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

  it('isId rejects other kinds, bad alphabets, wrong lengths and non-strings', () => {
    const id = newId('endpoint');
    expect(isId('delivery', id)).toBe(false);
    expect(isId('endpoint', id.toLowerCase())).toBe(false);
    expect(isId('endpoint', `${id}0`)).toBe(false);
    expect(isId('endpoint', id.replace(/.$/, 'U'))).toBe(false);
    for (const value of [undefined, null, 42, { id }, [id]]) expect(isId('endpoint', value)).toBe(false);
  });
});
