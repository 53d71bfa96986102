import { randomBytes } from 'node:crypto';
import type { SignInput } from '../../src/signing/index.js';

/** A secret shaped like the ones WebhookService creates: `whsec_` + 32 random bytes in base64. */
export function newSecret(prefix = 'whsec_'): string {
  return prefix + randomBytes(32).toString('base64');
}

export function eventBody(data: unknown = { executionId: 'exec_def456', status: 'completed' }, id = 'evt_01JD4Z8X2K3M4N5P6Q7R8S9T0V'): string {
  return JSON.stringify({ id, type: 'execution.completed', data, createdAt: '2026-03-15T10:30:00.000Z' });
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function signInput(overrides: Partial<SignInput> = {}): SignInput {
  return {
    endpointId: 'wh_01JD4Z8X2K3M4N5P6Q7R8S9T0V',
    eventId: 'evt_01JD4Z8X2K3M4N5P6Q7R8S9T0V',
    timestamp: nowSeconds(),
    body: eventBody(),
    secrets: [newSecret()],
    ...overrides,
  };
}

/** Runs `fn` and returns what it threw, failing the test when it does not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
