import { Catalog } from './catalog.js';
import { type Clock, systemClock } from './clock.js';
import {
  type CreateEndpointInput,
  type UpdateEndpointInput,
  toPublicEndpoint,
  validateCreate,
  validateUpdate,
} from './endpoints.js';
import { WebhookError, notFound, validationFailed } from './errors.js';
import { isId, newId } from './ids.js';
import type { Endpoint, EndpointRecord, Page } from './model.js';
import { type ResolvedOptions, type WebhookServiceOptions, resolveOptions } from './options.js';
import { generateSecret } from './secrets.js';
import type { EndpointPatch, Storage } from './storage/storage.js';

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

const MAX_ORG_ID_LENGTH = 255;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

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

  constructor(options: WebhookServiceOptions) {
    this.options = resolveOptions(options);
    this.storage = this.options.storage;
    this.clock = this.options.clock ?? systemClock;
    this.catalog = new Catalog(this.options.eventTypes, this.options.apiVersions);
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
    const { limit, beforeId } = parsePage(options, 'endpoint');
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
    return toPublicEndpoint(updated);
  }

  /** Soft-deletes the endpoint: nothing is delivered to it afterwards, and reads answer NOT_FOUND. */
  async delete(orgId: string, id: string): Promise<{ id: string; deleted: true }> {
    assertOrgId(orgId);
    if (!isId('endpoint', id) || !(await this.storage.deleteEndpoint(orgId, id, this.now()))) {
      throw notFound('webhook endpoint');
    }
    return { id, deleted: true };
  }

  /**
   * Mints a new secret (returned once). The previous one keeps signing alongside it for the
   * rotation grace period, so receivers can switch without rejecting deliveries.
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
}

/** Validates `limit` and `cursor`; the cursor is the id of the last row of the previous page. */
export function parsePage(options: ListOptions, kind: 'endpoint' | 'delivery'): { limit: number; beforeId: string | undefined } {
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  const details: Record<string, string> = {};
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) details.limit = `must be an integer from 1 to ${MAX_PAGE_SIZE}`;
  const cursor = options.cursor ?? undefined;
  if (cursor !== undefined && !isId(kind, cursor)) details.cursor = 'is not a cursor this API returned';
  if (Object.keys(details).length) throw validationFailed(details);
  return { limit, beforeId: cursor };
}

export { WebhookError };
