import { Catalog } from './catalog.js';
import { type Clock, systemClock } from './clock.js';
import { type CreateEndpointInput, type UpdateEndpointInput, filterMatches, toPublicEndpoint } from './endpoints.js';
import { WebhookError, notFound, validationFailed } from './errors.js';
import { isId, newId } from './ids.js';
import { silentLogger, type Logger } from './logger.js';
import type { Delivery, DeliveryWithAttempts, Endpoint, EndpointRecord, Page, WebhookEvent } from './model.js';
import { type ResolvedOptions, type WebhookServiceOptions, resolveOptions } from './options.js';
import { generateSecret } from './secrets.js';
import type { EndpointPatch, Storage, WriteOptions } from './storage/storage.js';
import { standardWebhooks } from './signing/standard-webhooks.js';
import { AttemptRunner } from './delivery/attempt-runner.js';
import { DeliveryEmitter, type DeliveryEventName, type DeliveryListener } from './delivery/delivery-events.js';
import { type EmitInput, type ListDeliveriesOptions, type PruneOptions, type ReplayOptions, payloadTooLarge } from './delivery/delivery-input.js';
import { serializeEvent, TEST_EVENT_TYPE } from './delivery/payload.js';
import { DeliveryScheduler } from './delivery/scheduler.js';
import { HttpTransport } from './delivery/transport.js';
import { placeByEndpoint } from './delivery/transitions.js';
import { validateEmit, validateListDeliveries, validateListEndpoints, validatePrune, validateReplay } from './validation/delivery.js';
import { validateCreate, validateUpdate } from './validation/endpoint.js';
import { DEFAULT_PAGE_SIZE } from './validation/page.js';
import { hasUnstorableText, UNSTORABLE_TEXT_PROBLEM } from './validation/text.js';

export interface ListOptions {
  /** 1..100, default 20. */
  limit?: number;
  /** `nextCursor` from the previous page. */
  cursor?: string | null;
}

export interface EndpointWithSecret {
  endpoint: Endpoint;
  /** Shown once: no read returns it again. */
  secret: string;
}

export interface EmitResult {
  event: WebhookEvent;
  /** One per matching endpoint: `pending`, or `held` for a paused endpoint. Empty when nothing subscribes. */
  deliveries: Delivery[];
}

export interface EmitOptions {
  /**
   * The host's own transaction on the same database (a kysely `Transaction` for the SQL storages):
   * the event commits or rolls back with the host's work. Memory storage rejects it.
   */
  transaction?: unknown;
}

const MAX_ORG_ID_LENGTH = 255;

/**
 * The one façade a host uses: endpoint management, event emission and the delivery
 * scheduler. Every method that takes an `orgId` sees only that org's data.
 */
export class WebhookService {
  readonly catalog: Catalog;
  readonly storage: Storage;
  /** @internal resolved options, shared with the delivery engine and the HTTP layer. */
  readonly options: ResolvedOptions;
  protected readonly clock: Clock;
  private readonly logger: Logger;
  private readonly events: DeliveryEmitter;
  private readonly transport: HttpTransport;
  private readonly scheduler: DeliveryScheduler;

  constructor(options: WebhookServiceOptions) {
    this.options = resolveOptions(options);
    this.storage = this.options.storage;
    this.clock = this.options.clock ?? systemClock;
    this.catalog = new Catalog(this.options.eventTypes, this.options.apiVersions);
    this.logger = this.options.logger ?? silentLogger;
    this.events = new DeliveryEmitter(this.logger);
    const d = this.options.delivery;
    this.transport = new HttpTransport({
      timeoutMs: d.timeoutMs,
      connectTimeoutMs: d.connectTimeoutMs,
      maxResponseBytes: d.maxResponseBytes,
      allowPrivateNetworks: d.allowPrivateNetworks,
      resolver: d.resolver,
    });
    const runner = new AttemptRunner({
      storage: this.storage,
      transport: this.transport,
      clock: this.clock,
      signing: this.options.signing ?? [standardWebhooks()],
      retry: this.options.retry,
      logger: this.logger,
      events: this.events,
      onEndpointPaused: this.options.onEndpointPaused,
    });
    this.scheduler = new DeliveryScheduler({
      storage: this.storage,
      clock: this.clock,
      logger: this.logger,
      events: this.events,
      run: (claimed) => runner.run(claimed),
      concurrency: d.concurrency,
      perEndpointConcurrency: d.perEndpointConcurrency,
      batchSize: d.batchSize,
      leaseMs: d.leaseMs,
      timeoutMs: d.timeoutMs,
      pollIntervalMs: d.pollIntervalMs,
      retention: this.options.retention,
    });
  }

  /** Creates or upgrades the storage schema. Idempotent. */
  async migrate(): Promise<void> {
    await this.storage.migrate();
  }

  /** Creates an endpoint and returns it with its secret (the only time the secret is shown). */
  async create(orgId: string, input: CreateEndpointInput): Promise<EndpointWithSecret> {
    assertOrgId(orgId);
    const valid = validateCreate(input, this.catalog, this.options.delivery);
    const now = this.now();
    const secret = generateSecret(this.options.secretPrefix);
    const record: EndpointRecord = {
      id: newId('endpoint', now.getTime()),
      orgId,
      url: valid.url,
      events: valid.events,
      description: valid.description,
      apiVersion: valid.apiVersion,
      filter: valid.filter,
      status: 'active',
      pausedReason: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      secrets: [{ secret, createdAt: now, expiresAt: null }],
    };
    const stored = await this.storage.createEndpoint(record, { maxPerOrg: this.options.maxEndpointsPerOrg });
    return { endpoint: toPublicEndpoint(stored), secret };
  }

  /** The endpoint, or NOT_FOUND (also for another org's or a deleted endpoint). */
  async get(orgId: string, id: string): Promise<Endpoint> {
    return toPublicEndpoint(await this.requireEndpoint(orgId, id));
  }

  /** Endpoints newest first, a page at a time; stable while new endpoints are created. */
  async list(orgId: string, options: ListOptions = {}): Promise<Page<Endpoint>> {
    assertOrgId(orgId);
    const { limit = DEFAULT_PAGE_SIZE, cursor: beforeId } = validateListEndpoints(options);
    // One extra row tells whether another page exists without a count query.
    const rows = await this.storage.listEndpoints(orgId, { limit: limit + 1, ...(beforeId ? { beforeId } : {}) });
    const data = rows.slice(0, limit).map(toPublicEndpoint);
    return { data, nextCursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  /**
   * Changes url, events, description, filter or status. Pausing holds the endpoint's pending
   * deliveries; resuming makes held deliveries due at once.
   */
  async update(orgId: string, id: string, input: UpdateEndpointInput): Promise<Endpoint> {
    assertOrgId(orgId);
    const valid = validateUpdate(input, this.catalog, this.options.delivery);
    if (!isId('endpoint', id)) throw notFound('webhook endpoint');
    const patch: EndpointPatch = { ...valid };
    if (valid.status === 'paused') patch.pausedReason = 'manual';
    if (valid.status === 'active') patch.pausedReason = null;
    const updated = await this.storage.updateEndpoint(orgId, id, patch, this.now());
    if (!updated) throw notFound('webhook endpoint');
    if (updated.status === 'paused') this.scheduler.forgetEndpoint(id, 'held');
    else {
      // Deliveries claimed before a URL change go out to the new URL.
      if (valid.url !== undefined) this.scheduler.forgetEndpoint(id, 'release');
      this.scheduler.wake();
    }
    return toPublicEndpoint(updated);
  }

  /** Soft-deletes the endpoint: nothing is delivered to it afterwards, and reads answer NOT_FOUND. */
  async delete(orgId: string, id: string): Promise<{ id: string; deleted: true }> {
    assertOrgId(orgId);
    if (!isId('endpoint', id) || !(await this.storage.deleteEndpoint(orgId, id, this.now()))) {
      throw notFound('webhook endpoint');
    }
    this.scheduler.forgetEndpoint(id, 'cancelled');
    return { id, deleted: true };
  }

  /**
   * Mints a new secret (returned once). The previous one keeps signing alongside it for the
   * rotation grace period, so receivers can switch without rejecting deliveries. At most 2
   * rotated-out secrets sign at once: a rotation beyond that ends the oldest one's grace at once.
   */
  async rotate(orgId: string, id: string): Promise<EndpointWithSecret> {
    assertOrgId(orgId);
    if (!isId('endpoint', id)) throw notFound('webhook endpoint');
    const now = this.now();
    const secret = generateSecret(this.options.secretPrefix);
    const rotated = await this.storage.rotateSecret(
      orgId,
      id,
      { secret, createdAt: now, expiresAt: null },
      new Date(now.getTime() + this.options.rotationGraceMs),
      now,
    );
    if (!rotated) throw notFound('webhook endpoint');
    return { endpoint: toPublicEndpoint(rotated), secret };
  }

  // ---- delivery ----

  /**
   * Records the event and one delivery per matching endpoint in one atomic write, then wakes the
   * scheduler. Matching: subscribed to `type`, not deleted, and every `filter` key equal in `data`.
   * The same `idempotencyKey` in the same org returns the first event and writes nothing.
   */
  async emit(orgId: string, input: EmitInput, options: EmitOptions = {}): Promise<EmitResult> {
    assertOrgId(orgId);
    const valid = validateEmit(input, this.catalog);
    const now = this.now();
    const event: WebhookEvent = {
      id: newId('event', now.getTime()),
      orgId,
      type: valid.type,
      data: JSON.parse(valid.dataJson) as unknown,
      idempotencyKey: valid.idempotencyKey,
      createdAt: now,
    };
    this.assertBodySize(event);
    const endpoints = await this.storage.listSubscribedEndpoints(orgId, event.type);
    const matching = endpoints.filter((e) => !e.deletedAt && filterMatches(e.filter, event.data));
    return this.record(event, matching, options);
  }

  /**
   * Sends a `webhook.test` event to this one endpoint, whether or not it subscribes to that type
   * (held like any other delivery while the endpoint is paused).
   */
  async sendTestEvent(orgId: string, endpointId: string): Promise<{ event: WebhookEvent; delivery: Delivery }> {
    const endpoint = await this.requireEndpoint(orgId, endpointId);
    const now = this.now();
    const event: WebhookEvent = {
      id: newId('event', now.getTime()),
      orgId,
      type: TEST_EVENT_TYPE,
      data: { endpointId: endpoint.id, message: 'A test event sent from hookrelay.' },
      idempotencyKey: null,
      createdAt: now,
    };
    const { deliveries } = await this.record(event, [endpoint], {});
    return { event, delivery: deliveries[0] as Delivery };
  }

  /** Starts the delivery loop. Idempotent. Attempt limits (`delivery.concurrency`, `perEndpointConcurrency`) apply per process. */
  start(): void {
    this.scheduler.start();
  }

  /** Stops claiming, gives back queued deliveries, waits for attempts in flight and records them. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.transport.close();
  }

  /** Sends everything due at `clock.now()` and resolves when each attempt is recorded (tests, scripts). */
  async deliverDue(): Promise<void> {
    await this.scheduler.deliverDue();
  }

  /** Deliveries newest first, filtered, a page at a time. */
  async listDeliveries(orgId: string, options: ListDeliveriesOptions = {}): Promise<Page<Delivery>> {
    assertOrgId(orgId);
    const { limit = DEFAULT_PAGE_SIZE, cursor: beforeId, ...filter } = validateListDeliveries(options);
    const rows = await this.storage.listDeliveries(orgId, { ...filter, limit: limit + 1, ...(beforeId ? { beforeId } : {}) });
    const data = rows.slice(0, limit);
    return { data, nextCursor: rows.length > limit ? (data[data.length - 1]?.id ?? null) : null };
  }

  /** One delivery with its attempts (oldest first), or NOT_FOUND. */
  async getDelivery(orgId: string, id: string): Promise<DeliveryWithAttempts> {
    assertOrgId(orgId);
    const delivery = isId('delivery', id) ? await this.storage.getDelivery(orgId, id) : null;
    if (!delivery) throw notFound('delivery');
    return delivery;
  }

  /**
   * Sends a finished (succeeded, failed or cancelled) delivery again, now; held if its endpoint is
   * paused. A pending or held delivery is returned unchanged. NOT_FOUND when its endpoint is deleted.
   */
  async retryDelivery(orgId: string, id: string): Promise<Delivery> {
    assertOrgId(orgId);
    const delivery = isId('delivery', id) ? await this.storage.retryDelivery(orgId, id, this.now()) : null;
    if (!delivery) throw notFound('delivery');
    if (delivery.status === 'pending') this.scheduler.wake();
    return delivery;
  }

  /** Sends the endpoint's finished deliveries created in [since, until) again; answers how many. */
  async replay(orgId: string, endpointId: string, options: ReplayOptions): Promise<{ replayed: number }> {
    await this.requireEndpoint(orgId, endpointId);
    const query = validateReplay(options);
    const replayed = await this.storage.replayDeliveries(orgId, endpointId, query, this.now());
    if (replayed > 0) this.scheduler.wake();
    return { replayed };
  }

  /** Deletes finished deliveries completed before `olderThan` (an instant or an age), their attempts, and orphaned events. */
  async prune(options: PruneOptions): Promise<{ deliveries: number; attempts: number; events: number }> {
    return this.storage.prune({ olderThan: validatePrune(options, this.clock.now()) });
  }

  /** Subscribes to a delivery event (`attempt`, `success`, `failure`, `exhausted`, `endpointPaused`, …). Returns an unsubscribe function. */
  on<K extends DeliveryEventName>(name: K, listener: DeliveryListener<K>): () => void {
    return this.events.on(name, listener);
  }

  off<K extends DeliveryEventName>(name: K, listener: DeliveryListener<K>): void {
    this.events.off(name, listener);
  }

  private assertBodySize(event: WebhookEvent): void {
    const bytes = Buffer.byteLength(serializeEvent(event));
    if (bytes > this.options.maxPayloadBytes) throw payloadTooLarge(bytes, this.options.maxPayloadBytes);
  }

  private async record(event: WebhookEvent, endpoints: EndpointRecord[], options: EmitOptions): Promise<EmitResult> {
    const now = event.createdAt;
    const deliveries: Delivery[] = endpoints.map((endpoint) => ({
      id: newId('delivery', now.getTime()),
      orgId: event.orgId,
      eventId: event.id,
      endpointId: endpoint.id,
      eventType: event.type,
      ...placeByEndpoint(endpoint, now, now),
      attemptCount: 0,
      requeuedAtAttempt: 0,
      lastAttemptAt: null,
      lastStatusCode: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    }));
    const write: WriteOptions = options.transaction === undefined ? {} : { transaction: options.transaction };
    const result = await this.storage.insertEvent({ event, deliveries }, write);
    if (result.created && deliveries.some((d) => d.status === 'pending')) this.scheduler.wake();
    return { event: result.event, deliveries: result.deliveries };
  }

  /** @internal */
  protected now(): Date {
    return new Date(this.clock.now());
  }

  /** @internal */
  protected async requireEndpoint(orgId: string, id: string): Promise<EndpointRecord> {
    assertOrgId(orgId);
    const record = isId('endpoint', id) ? await this.storage.getEndpoint(orgId, id) : null;
    if (!record) throw notFound('webhook endpoint');
    return record;
  }
}

/** Org ids come from the host's auth; a wrong one is a programming error, reported clearly. */
export function assertOrgId(orgId: unknown): asserts orgId is string {
  if (typeof orgId !== 'string' || orgId.length === 0 || orgId.length > MAX_ORG_ID_LENGTH) {
    throw validationFailed({ orgId: `must be a non-empty string of at most ${MAX_ORG_ID_LENGTH} characters` });
  }
  if (hasUnstorableText(orgId)) throw validationFailed({ orgId: UNSTORABLE_TEXT_PROBLEM });
}

export { WebhookError };
