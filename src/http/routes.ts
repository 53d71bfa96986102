import type { CreateEndpointInput, UpdateEndpointInput } from '../endpoints.js';
import type { WebhookService } from '../service.js';
import { endpointListQuerySchema } from '../validation/delivery.js';
import { validateCreate, validateUpdate } from '../validation/endpoint.js';
import { parseInput } from '../validation/issues.js';
import { call, readBodyFields, readQuery, requireNoInput } from './input.js';
import type { Field, Wire } from './wire-format.js';

export type Access = 'read' | 'write';

/**
 * - `none`: the body is never read (GET, DELETE)
 * - `empty`: no body, or an empty object
 * - `object`: a JSON object is required
 */
export type BodyRule = 'none' | 'empty' | 'object';

export interface RouteContext {
  service: WebhookService;
  orgId: string;
  params: Readonly<Record<string, string>>;
  query: string;
  body: unknown;
  wire: Wire;
}

export interface RouteResult {
  status: number;
  /** The answer's body, already serialized. */
  json: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Segments below the mount point; `:name` captures one segment. */
  path: string;
  access: Access;
  body: BodyRule;
  run(context: RouteContext): Promise<RouteResult>;
}

const CREATE_FIELDS: readonly Field[] = ['url', 'events', 'description', 'apiVersion', 'filter'];
const UPDATE_FIELDS: readonly Field[] = ['url', 'events', 'description', 'status', 'filter'];
const PAGE_FIELDS: readonly Field[] = ['limit', 'cursor'];

/** A route's answer: `payload` serialized as JSON. */
export const answer = (status: number, payload: unknown): RouteResult => ({ status, json: JSON.stringify(payload) });
const ok = (payload: unknown): RouteResult => answer(200, payload);

export const ENDPOINT_ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/webhooks',
    access: 'write',
    body: 'object',
    async run({ service, orgId, body, wire, query }) {
      readQuery(query, [], wire);
      const input = readBodyFields(body, CREATE_FIELDS, wire, (known) => validateCreate(known, service.catalog, service.options.delivery));
      const { endpoint, secret } = await call(wire, () => service.create(orgId, input as unknown as CreateEndpointInput));
      return answer(201, wire.endpointWithSecret(endpoint, secret));
    },
  },
  {
    method: 'GET',
    path: '/webhooks',
    access: 'read',
    body: 'none',
    async run({ service, orgId, query, wire }) {
      const q = readQuery(query, PAGE_FIELDS, wire);
      const page = await call(wire, () => service.list(orgId, parseInput(endpointListQuerySchema, q)));
      return ok(wire.page(page.data, page.nextCursor, (e) => wire.endpoint(e)));
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id',
    access: 'read',
    body: 'none',
    async run({ service, orgId, params, query, wire }) {
      readQuery(query, [], wire);
      return ok(wire.endpoint(await service.get(orgId, params.id as string)));
    },
  },
  {
    method: 'PATCH',
    path: '/webhooks/:id',
    access: 'write',
    body: 'object',
    async run({ service, orgId, params, body, query, wire }) {
      readQuery(query, [], wire);
      const input = readBodyFields(body, UPDATE_FIELDS, wire, (known) => validateUpdate(known, service.catalog, service.options.delivery));
      const updated = await call(wire, () => service.update(orgId, params.id as string, input as UpdateEndpointInput));
      return ok(wire.endpoint(updated));
    },
  },
  {
    method: 'DELETE',
    path: '/webhooks/:id',
    access: 'write',
    body: 'none',
    async run({ service, orgId, params, query, wire }) {
      readQuery(query, [], wire);
      return ok(await service.delete(orgId, params.id as string));
    },
  },
  {
    method: 'POST',
    path: '/webhooks/:id/rotate',
    access: 'write',
    body: 'empty',
    async run({ service, orgId, params, body, query, wire }) {
      readQuery(query, [], wire);
      requireNoInput(body);
      const { endpoint, secret } = await service.rotate(orgId, params.id as string);
      return ok(wire.endpointWithSecret(endpoint, secret));
    },
  },
  {
    method: 'GET',
    path: '/event-types',
    access: 'read',
    body: 'none',
    async run({ service, query, wire }) {
      readQuery(query, [], wire);
      const { supported, deprecated, current } = service.catalog.apiVersions;
      return ok({
        data: service.catalog.eventTypes.map((type) => ({ type })),
        [wire.names.apiVersions]: { supported, deprecated, current },
      });
    },
  },
];
