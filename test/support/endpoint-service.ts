import { WebhookService } from '../../src/service.js';
import type { WebhookServiceOptions } from '../../src/options.js';
import { MemoryStorage, memoryStorage } from '../../src/storage/memory.js';

/** The seed's own event types first, then enough valid names to test the 50-entry cap. */
export const EVENT_TYPES: readonly string[] = [
  'wallet.balance_low',
  'execution.completed',
  'execution.failed',
  'message.received',
  ...Array.from({ length: 60 }, (_, i) => `bulk.type_${i}`),
];

export const API_VERSIONS = { supported: ['2025-01-01', '2026-04-01'], deprecated: ['2025-01-01'], current: '2026-04-01' };

/** A clock tests move by hand: `{ now: () => t }`. */
export interface ManualClock {
  now(): number;
  set(epochMs: number): void;
  advance(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 3, 26, 12, 0, 0, 0)): ManualClock {
  let t = start;
  return {
    now: () => t,
    set: (epochMs) => {
      t = epochMs;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export interface ServiceUnderTest {
  service: WebhookService;
  storage: MemoryStorage;
  clock: ManualClock;
}

/** A WebhookService over fresh memory storage, the test catalog and a manual clock. */
export function endpointService(overrides: Partial<WebhookServiceOptions> = {}): ServiceUnderTest {
  const clock = manualClock();
  const storage = memoryStorage();
  const service = new WebhookService({ storage, eventTypes: EVENT_TYPES, apiVersions: API_VERSIONS, clock, ...overrides });
  return { service, storage, clock };
}

export const ORG = 'org_0190a1b2';
export const OTHER_ORG = 'org_0190ffff';
export const VALID_INPUT = { url: 'https://hooks.example.com/y3labs/ops', events: ['wallet.balance_low'] };
