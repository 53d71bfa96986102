import { WebhookService, memoryStorage, type Storage, type WebhookServiceOptions } from '../../src/index.js';
import { createTestReceiver, manualClock, type ManualClock, type TestReceiver } from '../../src/testing/index.js';

export const EVENT_TYPES = ['execution.completed', 'execution.failed', 'tool.error'] as const;

export interface Harness {
  hooks: WebhookService;
  clock: ManualClock;
  receiver: TestReceiver;
  storage: Storage;
  /** Creates an endpoint pointing at the receiver, and tells the receiver its secret. */
  endpoint(input?: { events?: string[]; filter?: Record<string, string | number | boolean>; orgId?: string; url?: string }): Promise<string>;
  close(): Promise<void>;
}

/** A service on memory storage with a manual clock, allowed to reach the loopback receiver. */
export async function harness(overrides: Partial<WebhookServiceOptions> = {}): Promise<Harness> {
  // On a whole second, so HTTP-date Retry-After values (second precision) land exactly.
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const receiver = await createTestReceiver();
  const storage = overrides.storage ?? memoryStorage();
  const hooks = new WebhookService({
    storage,
    eventTypes: [...EVENT_TYPES],
    clock,
    ...overrides,
    delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: '2s', lease: '10s', ...overrides.delivery },
  });
  return {
    hooks,
    clock,
    receiver,
    storage,
    async endpoint(input = {}) {
      const { endpoint, secret } = await hooks.create(input.orgId ?? 'org_1', {
        url: input.url ?? receiver.url,
        events: input.events ?? ['execution.completed'],
        ...(input.filter ? { filter: input.filter } : {}),
      });
      receiver.setSecret(secret);
      return endpoint.id;
    },
    async close() {
      await hooks.stop();
      await receiver.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
