import { z } from 'zod';
import { EVENT_TYPE_PATTERN } from './catalog.js';
import type { Clock } from './clock.js';
import { type Duration, parseDuration } from './duration.js';
import { InvalidOptionsError } from './errors.js';
import type { Logger } from './logger.js';
import type { Resolver } from './net/guarded-lookup.js';
import type { Endpoint, PausedReason } from './model.js';
import type { SigningScheme } from './signing/scheme.js';
import type { Storage } from './storage/storage.js';
import { durationSchema } from './validation/duration.js';

export interface EndpointPausedInfo {
  endpoint: Endpoint;
  reason: PausedReason;
}

/** Options accepted by `new WebhookService(…)`. Validated at construction. */
export interface WebhookServiceOptions {
  storage: Storage;
  /** The catalog of event types endpoints may subscribe to: dot-separated names. */
  eventTypes: readonly string[];
  /** Default: `{ supported: ['2026-04-01'], deprecated: [], current: '2026-04-01' }`. */
  apiVersions?: { supported: readonly string[]; deprecated?: readonly string[]; current: string };
  limits?: {
    /** Non-deleted endpoints an org may hold. Default 50. */
    maxEndpointsPerOrg?: number;
    /** Cap on the serialized delivery body. Default 256 KiB. */
    maxPayloadBytes?: number;
  };
  /**
   * Prepended to generated secrets. Default `whsec_`; `''` gives plain base64 as the AgentMessage
   * seed shows. Another prefix (letters, digits, `_`, ending in `_`) only with schemes other than
   * Standard Webhooks, whose npm verifiers accept just `whsec_` or none.
   */
  secretPrefix?: string;
  /** How long a rotated-out secret keeps signing. Default `'24h'`. */
  rotationGracePeriod?: Duration;
  /** One scheme or several (all header sets go on each request). Default `standardWebhooks()`. */
  signing?: SigningScheme | readonly SigningScheme[];
  retry?: {
    /** Delays before each retry after the first attempt. Default `['1s', '5s', '30s', '2m', '10m']`. */
    schedule?: readonly Duration[];
    /** Randomise each delay by up to this fraction (0..1). Default 0, so the schedule holds exactly. */
    jitter?: number;
    /** Longest `Retry-After` (on 429/503) that is honoured; one shorter than the scheduled delay never brings a retry forward. Default `'1h'`. */
    maxRetryAfter?: Duration;
  };
  delivery?: {
    /** Allow `http:` endpoint URLs (local development). Default false. */
    allowHttp?: boolean;
    /** Allow loopback/private/link-local targets (tests, local development). Default false. */
    allowPrivateNetworks?: boolean;
    /** Whole-request timeout. Default `'15s'`. */
    timeout?: Duration;
    /** TCP/TLS connect timeout. Default `'5s'`. */
    connectTimeout?: Duration;
    /** Response bytes read before the connection is dropped. At most the 4 KiB excerpt is read whatever this says, so only a lower value changes anything. Default 64 KiB. */
    maxResponseBytes?: number;
    /** Attempts in flight at once, across all endpoints. Default 64. */
    concurrency?: number;
    /** Attempts in flight at once to any one endpoint. Default 8. */
    perEndpointConcurrency?: number;
    /** Fallback polling interval when nothing wakes the scheduler. Default `'1s'`. */
    pollInterval?: Duration;
    /** How long a claimed delivery stays leased. Must exceed `timeout`. Default `'60s'`. */
    lease?: Duration;
    /** Deliveries claimed per storage round trip. Default 100. */
    batchSize?: number;
    /**
     * @internal Replaces DNS for deliveries (tests map names to loopback without a DNS server).
     * Every connection then goes through the SSRF guard's lookup.
     */
    resolver?: Resolver;
  };
  /** Periodic clean-up run by the scheduler: finished deliveries older than `maxAge` are deleted with their attempts. Off by default. */
  retention?: {
    /** e.g. `'30d'`. */
    maxAge: Duration;
    /** How often to prune. Default `'1h'`. */
    interval?: Duration;
  };
  /** Called once when an endpoint is paused by hookrelay (exhausted retries, or 410 Gone). */
  onEndpointPaused?: (info: EndpointPausedInfo) => void | Promise<void>;
  logger?: Logger;
  clock?: Clock;
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { message: `must be a function (${what})` });

/** Node's timers hold at most 2^31 − 1 ms; a longer one fires after 1 ms instead, so the loop would spin. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration a timer waits for: positive and within Node's timer range (about 24.8 days). */
const timerDurationSchema = durationSchema.refine(
  (v) => {
    const ms = parseDuration(v);
    return ms === undefined || (ms > 0 && ms <= MAX_TIMER_MS);
  },
  { message: `must be more than 0 and at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest a Node timer waits` },
);

const storageSchema = z.custom<Storage>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Storage).createEndpoint === 'function' &&
    typeof (v as Storage).claimDueDeliveries === 'function',
  { message: 'must be a Storage (memoryStorage(), sqliteStorage(…), postgresStorage(…))' },
);

const schemeSchema = z.custom<SigningScheme>(
  (v) => typeof v === 'object' && v !== null && typeof (v as SigningScheme).sign === 'function' && typeof (v as SigningScheme).name === 'string',
  { message: 'must be a signing scheme (standardWebhooks(), hmacSha256Hex(…))' },
);

const optionsSchema = z.object({
  storage: storageSchema,
  eventTypes: z
    .array(z.string().regex(EVENT_TYPE_PATTERN, 'must be dot-separated lowercase names like "execution.completed"'))
    .min(1, 'must list at least one event type')
    .refine((list) => new Set(list).size === list.length, 'must not contain duplicates'),
  apiVersions: z
    .object({
      supported: z.array(z.string().min(1)).min(1),
      deprecated: z.array(z.string().min(1)).optional(),
      current: z.string().min(1),
    })
    .refine((v) => v.supported.includes(v.current), { message: 'current must be one of supported', path: ['current'] })
    .refine((v) => !(v.deprecated ?? []).includes(v.current), { message: 'current must not be deprecated', path: ['current'] })
    .optional(),
  limits: z
    .object({
      maxEndpointsPerOrg: z.number().int().min(1).optional(),
      maxPayloadBytes: z.number().int().min(1).optional(),
    })
    .strict()
    .optional(),
  // hookrelay's own verifier finds the base64 key after the last `_`, so a prefix must be empty or
  // end with one, and may not otherwise hold characters base64 uses. With Standard Webhooks
  // signing, only 'whsec_' or '' is accepted (checked below): the npm verifiers strip just that.
  secretPrefix: z
    .string()
    .regex(/^(?:[A-Za-z0-9_]*_)?$/, 'must be empty or letters, digits and underscores ending with "_" (like "whsec_")')
    .optional(),
  rotationGracePeriod: durationSchema.optional(),
  signing: z.union([schemeSchema, z.array(schemeSchema).min(1)]).optional(),
  retry: z
    .object({
      schedule: z.array(durationSchema).max(100).optional(),
      jitter: z.number().min(0).max(1).optional(),
      maxRetryAfter: durationSchema.optional(),
    })
    .strict()
    .optional(),
  delivery: z
    .object({
      allowHttp: z.boolean().optional(),
      allowPrivateNetworks: z.boolean().optional(),
      timeout: timerDurationSchema.optional(),
      connectTimeout: timerDurationSchema.optional(),
      maxResponseBytes: z.number().int().min(0).optional(),
      concurrency: z.number().int().min(1).max(10_000).optional(),
      perEndpointConcurrency: z.number().int().min(1).max(10_000).optional(),
      pollInterval: timerDurationSchema.optional(),
      lease: durationSchema.optional(),
      batchSize: z.number().int().min(1).max(10_000).optional(),
      resolver: fn('resolver').optional(),
    })
    .strict()
    .optional(),
  retention: z
    .object({
      maxAge: durationSchema,
      interval: timerDurationSchema.optional(),
    })
    .strict()
    .optional(),
  onEndpointPaused: fn('onEndpointPaused').optional(),
  logger: z
    .custom<Logger>(
      (v) => typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function'),
      { message: 'must be a pino-compatible logger with debug, info, warn and error' },
    )
    .optional(),
  clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function', { message: 'must have now(): number' }).optional(),
}).strict();

/** The options with every default applied and every duration in milliseconds. */
export interface ResolvedOptions {
  storage: Storage;
  eventTypes: readonly string[];
  apiVersions: { supported: string[]; deprecated: string[]; current: string };
  maxEndpointsPerOrg: number;
  maxPayloadBytes: number;
  secretPrefix: string;
  rotationGraceMs: number;
  signing: readonly SigningScheme[] | undefined;
  retry: { scheduleMs: number[]; jitter: number; maxRetryAfterMs: number };
  delivery: {
    allowHttp: boolean;
    allowPrivateNetworks: boolean;
    timeoutMs: number;
    connectTimeoutMs: number;
    maxResponseBytes: number;
    concurrency: number;
    perEndpointConcurrency: number;
    pollIntervalMs: number;
    leaseMs: number;
    batchSize: number;
    resolver: Resolver | undefined;
  };
  retention: { maxAgeMs: number; intervalMs: number } | null;
  onEndpointPaused: WebhookServiceOptions['onEndpointPaused'];
  logger: Logger | undefined;
  clock: Clock | undefined;
}

export const DEFAULT_RETRY_SCHEDULE = ['1s', '5s', '30s', '2m', '10m'] as const;
export const DEFAULT_API_VERSION = '2026-04-01';

const ms = (value: Duration | undefined, fallback: Duration): number => parseDuration(value ?? fallback) as number;

export function resolveOptions(input: WebhookServiceOptions): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidOptionsError(
      parsed.error.issues.map((issue) => ({
        option: issue.path.length ? issue.path.map(String).join('.') : 'options',
        message: issue.message,
      })),
    );
  }
  const o = parsed.data;
  const delivery = {
    allowHttp: o.delivery?.allowHttp ?? false,
    allowPrivateNetworks: o.delivery?.allowPrivateNetworks ?? false,
    timeoutMs: ms(o.delivery?.timeout, '15s'),
    connectTimeoutMs: ms(o.delivery?.connectTimeout, '5s'),
    maxResponseBytes: o.delivery?.maxResponseBytes ?? 64 * 1024,
    concurrency: o.delivery?.concurrency ?? 64,
    perEndpointConcurrency: o.delivery?.perEndpointConcurrency ?? 8,
    pollIntervalMs: ms(o.delivery?.pollInterval, '1s'),
    leaseMs: ms(o.delivery?.lease, '60s'),
    batchSize: o.delivery?.batchSize ?? 100,
    resolver: o.delivery?.resolver as Resolver | undefined,
  };
  if (delivery.leaseMs <= delivery.timeoutMs) {
    throw new InvalidOptionsError([{ option: 'delivery.lease', message: `must be longer than delivery.timeout (${delivery.timeoutMs} ms)` }]);
  }
  const signing = o.signing === undefined ? undefined : Array.isArray(o.signing) ? o.signing : [o.signing as SigningScheme];
  const secretPrefix = o.secretPrefix ?? 'whsec_';
  // Unset, signing is Standard Webhooks. Its npm verifiers (standardwebhooks, svix) strip exactly
  // `whsec_` and base64-decode the rest, so any other prefix would fail every receiver using them.
  const standardWebhooks = signing === undefined || signing.some((scheme) => scheme.name === 'standard-webhooks');
  if (standardWebhooks && secretPrefix !== '' && secretPrefix !== 'whsec_') {
    throw new InvalidOptionsError([
      {
        option: 'secretPrefix',
        message: `must be 'whsec_' or '' while signing with Standard Webhooks: the standardwebhooks and svix verifiers strip only 'whsec_' before decoding the key (got '${secretPrefix}')`,
      },
    ]);
  }
  return {
    storage: o.storage,
    eventTypes: o.eventTypes,
    apiVersions: {
      supported: o.apiVersions?.supported ?? [DEFAULT_API_VERSION],
      deprecated: o.apiVersions?.deprecated ?? [],
      current: o.apiVersions?.current ?? DEFAULT_API_VERSION,
    },
    maxEndpointsPerOrg: o.limits?.maxEndpointsPerOrg ?? 50,
    maxPayloadBytes: o.limits?.maxPayloadBytes ?? 256 * 1024,
    secretPrefix,
    rotationGraceMs: ms(o.rotationGracePeriod, '24h'),
    signing,
    retry: {
      scheduleMs: (o.retry?.schedule ?? DEFAULT_RETRY_SCHEDULE).map((d) => parseDuration(d) as number),
      jitter: o.retry?.jitter ?? 0,
      maxRetryAfterMs: ms(o.retry?.maxRetryAfter, '1h'),
    },
    delivery,
    retention: o.retention ? { maxAgeMs: ms(o.retention.maxAge, '30d'), intervalMs: Math.max(1000, ms(o.retention.interval, '1h')) } : null,
    onEndpointPaused: o.onEndpointPaused as WebhookServiceOptions['onEndpointPaused'],
    logger: o.logger,
    clock: o.clock,
  };
}
