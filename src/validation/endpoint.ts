import { z } from 'zod';
import type { Catalog } from '../catalog.js';
import type { EndpointFilter, EndpointStatus } from '../model.js';
import { oncePer, parseInput } from './issues.js';
import { hasUnstorableText, plainObject, UNSTORABLE_TEXT_PROBLEM } from './text.js';
import { type UrlPolicy, endpointUrlSchema } from './url.js';

export const MAX_DESCRIPTION_LENGTH = 200;
export const MAX_EVENTS_PER_ENDPOINT = 50;
export const MAX_FILTER_KEYS = 20;
const MAX_FILTER_KEY_LENGTH = 100;
const MAX_FILTER_STRING_LENGTH = 500;
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** What a valid create request holds, defaults applied. */
export interface ValidCreate {
  url: string;
  events: string[];
  description: string | null;
  apiVersion: string;
  filter: EndpointFilter | null;
}

/** What a valid update request holds: only the fields it changes. */
export interface ValidUpdate {
  url?: string;
  events?: string[];
  description?: string | null;
  status?: EndpointStatus;
  filter?: EndpointFilter | null;
}

function eventsSchema(catalog: Catalog) {
  const range = `must have 1 to ${MAX_EVENTS_PER_ENDPOINT} entries`;
  return z
    .array(z.unknown(), 'must be an array of event types')
    .min(1, range)
    .max(MAX_EVENTS_PER_ENDPOINT, range)
    .pipe(z.array(z.string('must contain only strings')))
    .superRefine((events, ctx) => {
      const seen = new Set<string>();
      const unknown: string[] = [];
      for (const entry of events) {
        if (seen.has(entry)) {
          ctx.addIssue({ code: 'custom', message: `duplicate event type: ${entry.slice(0, 100)}` });
          return;
        }
        seen.add(entry);
        if (!catalog.has(entry)) unknown.push(entry.slice(0, 100));
      }
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown event type${unknown.length > 1 ? 's' : ''}: ${unknown.slice(0, 5).join(', ')}` });
    });
}

const descriptionSchema = z
  .string('must be a string')
  // Characters as people count them (code points), not UTF-16 units; no string is longer in code points.
  .refine((value) => value.length <= MAX_DESCRIPTION_LENGTH || [...value].length <= MAX_DESCRIPTION_LENGTH, {
    error: `must be ${MAX_DESCRIPTION_LENGTH} characters or fewer`,
    abort: true,
  })
  .refine((value) => !hasUnstorableText(value), UNSTORABLE_TEXT_PROBLEM)
  .nullable();

const FILTER_SHAPE = 'must be an object of key → string, number or boolean';

/**
 * A filter is a free-form map, checked key by key on the object as given: a `__proto__` key must
 * be refused, not silently dropped the way copying it into a record (or a zod record) drops it.
 */
const filterSchema = plainObject(FILTER_SHAPE)
  .superRefine((filter, ctx) => {
    const problem = filterProblem(filter);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((filter): EndpointFilter => ({ ...(filter as EndpointFilter) }))
  .nullable();

function filterProblem(filter: Record<string, unknown>): string | null {
  const keys = Object.keys(filter);
  if (keys.length === 0) return 'must have at least one key (use null for no filter)';
  if (keys.length > MAX_FILTER_KEYS) return `must have at most ${MAX_FILTER_KEYS} keys`;
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_FILTER_KEY_LENGTH) return `keys must be 1 to ${MAX_FILTER_KEY_LENGTH} characters`;
    if (RESERVED_KEYS.has(key)) return `key not allowed: ${key}`;
    if (hasUnstorableText(key)) return `keys ${UNSTORABLE_TEXT_PROBLEM}`;
    const value = filter[key];
    if (typeof value === 'string') {
      if (value.length > MAX_FILTER_STRING_LENGTH) return `values must be at most ${MAX_FILTER_STRING_LENGTH} characters`;
      if (hasUnstorableText(value)) return `values ${UNSTORABLE_TEXT_PROBLEM}`;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return 'numbers must be finite';
    } else if (typeof value !== 'boolean') {
      return 'values must be strings, numbers or booleans';
    }
  }
  return null;
}

function apiVersionSchema(catalog: Catalog) {
  return z
    .string('must be a string')
    .superRefine((version, ctx) => {
      const problem = catalog.apiVersionProblem(version);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(catalog.apiVersions.current);
}

const statusSchema = z.enum(['active', 'paused'], 'must be "active" or "paused"');

function buildSchemas(catalog: Catalog, policy: UrlPolicy) {
  const url = endpointUrlSchema(policy);
  const events = eventsSchema(catalog);
  const body = plainObject('must be an object');
  return {
    create: body.pipe(
      z
        .object({
          url,
          events,
          description: descriptionSchema.optional().transform((value) => value ?? null),
          apiVersion: apiVersionSchema(catalog),
          filter: filterSchema.optional().transform((value) => value ?? null),
        })
        .strict(),
    ),
    update: body.pipe(
      z
        .object({
          url: url.optional(),
          events: events.optional(),
          description: descriptionSchema.optional(),
          status: statusSchema.optional(),
          filter: filterSchema.optional(),
        })
        .strict(),
    ),
  };
}

type EndpointSchemas = ReturnType<typeof buildSchemas>;

const byPolicy = oncePer((_catalog: Catalog) => new Map<string, EndpointSchemas>());

/** The create and update schemas for a service's catalog and URL policy, built once. */
export function endpointSchemas(catalog: Catalog, policy: UrlPolicy): EndpointSchemas {
  const schemas = byPolicy(catalog);
  const key = `${policy.allowHttp}/${policy.allowPrivateNetworks}`;
  let built = schemas.get(key);
  if (!built) schemas.set(key, (built = buildSchemas(catalog, policy)));
  return built;
}

/** Validates a create request; throws VALIDATION_FAILED with every problem keyed by field. */
export function validateCreate(input: unknown, catalog: Catalog, policy: UrlPolicy): ValidCreate {
  return parseInput(endpointSchemas(catalog, policy).create, input);
}

/** Validates an update request; throws VALIDATION_FAILED with every problem keyed by field. */
export function validateUpdate(input: unknown, catalog: Catalog, policy: UrlPolicy): ValidUpdate {
  return parseInput(endpointSchemas(catalog, policy).update, input);
}
