import type { Endpoint, EndpointFilter, EndpointRecord, EndpointStatus } from './model.js';

export interface CreateEndpointInput {
  url: string;
  events: string[];
  description?: string | null;
  apiVersion?: string;
  filter?: EndpointFilter | null;
}

export interface UpdateEndpointInput {
  url?: string;
  events?: string[];
  description?: string | null;
  status?: EndpointStatus;
  filter?: EndpointFilter | null;
}

/** True when every filter key equals the same key of the event's `data` (no filter matches everything). */
export function filterMatches(filter: EndpointFilter | null, data: unknown): boolean {
  if (!filter) return true;
  // Filters name attributes of an object (`agentId`); an array's `length` or index is none.
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  for (const key of Object.keys(filter)) {
    if (!Object.prototype.hasOwnProperty.call(data, key)) return false;
    if ((data as Record<string, unknown>)[key] !== filter[key]) return false;
  }
  return true;
}

/** The public view of a stored endpoint: every field but the secrets. */
export function toPublicEndpoint(record: EndpointRecord): Endpoint {
  return {
    id: record.id,
    orgId: record.orgId,
    url: record.url,
    events: [...record.events],
    description: record.description,
    apiVersion: record.apiVersion,
    filter: record.filter ? { ...record.filter } : null,
    status: record.status,
    pausedReason: record.pausedReason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    deletedAt: record.deletedAt,
  };
}
