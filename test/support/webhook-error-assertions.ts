import { expect } from 'vitest';
import { type WebhookErrorCode, WebhookError } from '../../src/errors.js';

/** Awaits `promise`, asserts it rejected with a WebhookError of `code`, and returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: WebhookErrorCode): Promise<WebhookError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected ${code}, got a result: ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(WebhookError);
  const error = outcome.error as WebhookError;
  expect(error.code).toBe(code);
  return error;
}

/** Asserts a VALIDATION_FAILED (422) whose `details` names exactly the given fields. */
export async function rejectsValidation(promise: Promise<unknown>, ...fields: string[]): Promise<WebhookError> {
  const error = await rejectsWith(promise, 'VALIDATION_FAILED');
  expect(error.status).toBe(422);
  expect(Object.keys(error.details ?? {}).sort()).toEqual([...fields].sort());
  return error;
}
