import { describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import type { WebhookServiceOptions } from '../../src/options.js';
import { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';
import { hmacSha256Hex, standardWebhooks } from '../../src/signing/index.js';
import { EVENT_TYPES } from '../support/endpoint-service.js';

const base = (): WebhookServiceOptions => ({ storage: memoryStorage(), eventTypes: EVENT_TYPES });

function construct(options: unknown): InvalidOptionsError | WebhookService {
  try {
    return new WebhookService(options as WebhookServiceOptions);
  } catch (error) {
    if (error instanceof InvalidOptionsError) return error;
    throw error;
  }
}

// Issue 2: "Options validated with zod at construction (a wrong option throws a clear error naming the option)".
describe('options are validated at construction', () => {
  const wrong: [string, Record<string, unknown>][] = [
    ['storage', { storage: undefined }],
    ['storage', { storage: { kind: 'fake' } }],
    ['eventTypes', { eventTypes: undefined }],
    ['eventTypes', { eventTypes: [] }],
    ['eventTypes', { eventTypes: ['order.created', 'order.created'] }],
    ['eventTypes.0', { eventTypes: ['Order Created'] }],
    ['eventTypes.1', { eventTypes: ['order.created', 'nodot'] }],
    ['apiVersions.current', { apiVersions: { supported: ['2026-04-01'], current: '2027-01-01' } }],
    ['apiVersions.current', { apiVersions: { supported: ['2026-04-01'], deprecated: ['2026-04-01'], current: '2026-04-01' } }],
    ['apiVersions.supported', { apiVersions: { supported: [], current: '2026-04-01' } }],
    ['limits.maxEndpointsPerOrg', { limits: { maxEndpointsPerOrg: 0 } }],
    ['limits.maxEndpointsPerOrg', { limits: { maxEndpointsPerOrg: 2.5 } }],
    ['limits.maxEndpointsPerOrg', { limits: { maxEndpointsPerOrg: Number.NaN } }],
    ['limits.maxEndpointsPerOrg', { limits: { maxEndpointsPerOrg: '50' } }],
    ['limits.maxPayloadBytes', { limits: { maxPayloadBytes: -1 } }],
    ['secretPrefix', { secretPrefix: 'wh-sec ' }],
    ['secretPrefix', { secretPrefix: 7 }],
    // Without a trailing "_" the standardwebhooks and svix verifiers cannot find the key.
    ['secretPrefix', { secretPrefix: 'whsec' }],
    // The standardwebhooks and svix verifiers strip only "whsec_": another prefix fails them all.
    ['secretPrefix', { secretPrefix: 'am_live_' }],
    ['secretPrefix', { secretPrefix: 'ya_', signing: [hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }), standardWebhooks()] }],
    ['rotationGracePeriod', { rotationGracePeriod: 'forever' }],
    ['rotationGracePeriod', { rotationGracePeriod: -5 }],
    ['retry.schedule.1', { retry: { schedule: ['1s', '1x'] } }],
    ['retry.jitter', { retry: { jitter: 2 } }],
    ['retry.maxRetryAfter', { retry: { maxRetryAfter: {} } }],
    ['delivery.allowHttp', { delivery: { allowHttp: 'yes' } }],
    ['delivery.allowPrivateNetworks', { delivery: { allowPrivateNetworks: 1 } }],
    ['delivery.timeout', { delivery: { timeout: '15 parsecs' } }],
    // Past 2^31 − 1 ms a Node timer fires after 1 ms: a monthly prune would run in a tight loop.
    ['delivery.timeout', { delivery: { timeout: '30d', lease: '60d' } }],
    ['delivery.timeout', { delivery: { timeout: 0 } }],
    ['delivery.pollInterval', { delivery: { pollInterval: '30d' } }],
    ['retention.interval', { retention: { maxAge: '90d', interval: '30d' } }],
    ['delivery.connectTimeout', { delivery: { connectTimeout: '30d' } }],
    ['delivery.concurrency', { delivery: { concurrency: 0 } }],
    ['delivery.lease', { delivery: { lease: '10s', timeout: '15s' } }],
    ['signing', { signing: { sign: 'nope' } }],
    ['onEndpointPaused', { onEndpointPaused: 'send email' }],
    ['logger', { logger: console.log }],
    ['clock', { clock: { now: 5 } }],
    ['clock', { clock: () => 5 }],
  ];

  it.each(wrong)('names %s', (option, patch) => {
    const result = construct({ ...base(), ...patch });
    expect(result).toBeInstanceOf(InvalidOptionsError);
    const error = result as InvalidOptionsError;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.issues.map((i) => i.option)).toContain(option);
    expect(error.message).toContain(option);
  });

  it('names an unknown option, top-level or nested', () => {
    const top = construct({ ...base(), maxEndpoints: 5 }) as InvalidOptionsError;
    expect(top).toBeInstanceOf(InvalidOptionsError);
    expect(top.message).toContain('maxEndpoints');
    const nested = construct({ ...base(), delivery: { allowHTTP: true } }) as InvalidOptionsError;
    expect(nested).toBeInstanceOf(InvalidOptionsError);
    expect(nested.message).toContain('allowHTTP');
  });

  it('rejects a missing or non-object options argument', () => {
    for (const options of [undefined, null, 'memory', []]) expect(construct(options)).toBeInstanceOf(InvalidOptionsError);
  });

  it('takes any well-formed secretPrefix when no scheme is Standard Webhooks', () => {
    const service = new WebhookService({ ...base(), secretPrefix: 'ya_', signing: hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }) });
    expect(service.options.secretPrefix).toBe('ya_');
    for (const secretPrefix of ['', 'whsec_']) expect(new WebhookService({ ...base(), secretPrefix }).options.secretPrefix).toBe(secretPrefix);
  });

  it('reports every wrong option at once', () => {
    const error = construct({ ...base(), secretPrefix: '!', limits: { maxEndpointsPerOrg: 0 } }) as InvalidOptionsError;
    expect(error.issues.map((i) => i.option).sort()).toEqual(['limits.maxEndpointsPerOrg', 'secretPrefix']);
  });

  it('applies the documented defaults', () => {
    const service = new WebhookService(base());
    expect(service.options).toMatchObject({
      maxEndpointsPerOrg: 50,
      secretPrefix: 'whsec_',
      rotationGraceMs: 24 * 3_600_000,
      apiVersions: { supported: ['2026-04-01'], deprecated: [], current: '2026-04-01' },
      delivery: { allowHttp: false, allowPrivateNetworks: false },
      retry: { scheduleMs: [1_000, 5_000, 30_000, 120_000, 600_000], jitter: 0 },
    });
  });

  it('accepts durations as milliseconds or strings', () => {
    const service = new WebhookService({ ...base(), rotationGracePeriod: '90m', retry: { schedule: [200, '1s', '2m', '1h'] } });
    expect(service.options.rotationGraceMs).toBe(5_400_000);
    expect(service.options.retry.scheduleMs).toEqual([200, 1_000, 120_000, 3_600_000]);
  });
});
