import { z } from 'zod';
import type { Catalog } from '../catalog.js';
import { parseDuration } from '../duration.js';
import { describeThrown } from '../errors.js';
import { isId } from '../ids.js';
import { FINISHED_STATUSES } from '../delivery/transitions.js';
import { DELIVERY_STATUSES } from '../model.js';
import { durationSchema } from './duration.js';
import { checkTimeRange, instantSchema } from './instant.js';
import { cursorSchema, limitSchema, queryLimitSchema } from './page.js';
import { type IssueWording, oncePer, parseInput } from './issues.js';
import { hasUnstorableText, plainObject, UNSTORABLE_TEXT_PROBLEM } from './text.js';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ValidEmit {
  type: string;
  /** `data` as JSON text, exactly as it will appear in the body. */
  dataJson: string;
  idempotencyKey: string | null;
}

const KEY_PROBLEM = `must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;

/** `data` is any value `JSON.stringify` turns into JSON text; a throwing `toJSON` (which may throw anything) is a validation problem. */
const dataSchema = z.unknown().transform((value, ctx): string => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is required (any JSON value)' });
    return z.NEVER;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be JSON-serializable (${describeThrown(error).slice(0, 100)})` });
    return z.NEVER;
  }
  if (json === undefined) ctx.addIssue({ code: 'custom', message: 'must be a JSON value' });
  return json as string;
});

const idempotencyKeySchema = z
  .string(KEY_PROBLEM)
  .min(1, KEY_PROBLEM)
  .max(MAX_IDEMPOTENCY_KEY_LENGTH, { error: KEY_PROBLEM, abort: true })
  .refine((key) => !hasUnstorableText(key), UNSTORABLE_TEXT_PROBLEM)
  .nullish()
  .transform((key) => key ?? null);

function buildEmitSchema(catalog: Catalog) {
  const type = 'must be a known event type';
  return plainObject('must be an object { type, data, idempotencyKey? }').pipe(
    z
      .object({
        type: z.string(type).refine((value) => catalog.has(value), type),
        data: dataSchema,
        idempotencyKey: idempotencyKeySchema,
      })
      .strict()
      .transform(({ type, data, idempotencyKey }): ValidEmit => ({ type, dataJson: data, idempotencyKey })),
  );
}

/** The emit schema of a service's catalog. The serialized size is checked by the caller, which knows the whole body. */
export const emitSchema = oncePer(buildEmitSchema);

export const deliveryStatusSchema = z.enum(DELIVERY_STATUSES, `must be one of: ${DELIVERY_STATUSES.join(', ')}`);
export const eventIdSchema = z.string('must be an event id (evt_…)').refine((value) => isId('event', value), 'must be an event id (evt_…)');
const endpointIdSchema = z.string('must be an endpoint id (wh_…)').refine((value) => isId('endpoint', value), 'must be an endpoint id (wh_…)');

/** The delivery filters the code API and the REST query share. */
const deliveryFilterFields = {
  eventId: eventIdSchema.optional(),
  status: deliveryStatusSchema.optional(),
  since: instantSchema().optional(),
  until: instantSchema().optional(),
  cursor: cursorSchema('delivery'),
};

/** The filters and paging of `listDeliveries`. */
export const listDeliveriesSchema = plainObject('must be an object').pipe(
  z
    .object({ ...deliveryFilterFields, endpointId: endpointIdSchema.optional(), limit: limitSchema.optional() })
    .strict()
    .superRefine(checkTimeRange),
);

/**
 * The query of `GET /webhooks/:id/deliveries`, parameters keyed by field name and given once
 * each: the same filters as `listDeliveries`, with `limit` read from its digits.
 */
export const deliveryListQuerySchema = z
  .object({ ...deliveryFilterFields, limit: queryLimitSchema.optional() })
  .strict()
  .superRefine(checkTimeRange);

export type ValidDeliveryList = z.output<typeof listDeliveriesSchema>;

/** `list` of endpoints: paging only. */
export const listEndpointsSchema = plainObject('must be an object').pipe(
  z.object({ limit: limitSchema.optional(), cursor: cursorSchema('endpoint') }).strict(),
);

/** The query of `GET /webhooks`. */
export const endpointListQuerySchema = z.object({ limit: queryLimitSchema.optional(), cursor: cursorSchema('endpoint') }).strict();

/** Which finished deliveries of an endpoint to send again. */
export const replaySchema = plainObject('must be an object { since, until?, status? }').pipe(
  z
    .object({
      since: instantSchema(true),
      until: instantSchema().optional(),
      status: z.enum(FINISHED_STATUSES, `must be one of: ${FINISHED_STATUSES.join(', ')}`).optional(),
    })
    .strict()
    .superRefine(checkTimeRange),
);

export type ValidReplay = z.output<typeof replaySchema>;

const AGE_PROBLEM = "must be a Date or an age such as '30d'";

/** The prune cut-off: an instant as given, or an age (`now - age`, resolved by the caller). */
export const pruneSchema = plainObject('must be an object { olderThan }').pipe(
  z
    .object({
      olderThan: z.union([z.date(), durationSchema.transform((age) => parseDuration(age) as number)], AGE_PROBLEM),
    })
    .strict(),
);

const QUERY: IssueWording = { root: 'query', unknown: 'unknown field' };

/** Validates an emit; throws VALIDATION_FAILED with every problem keyed by field. */
export function validateEmit(input: unknown, catalog: Catalog): ValidEmit {
  return parseInput(emitSchema(catalog), input);
}

/** Validates the filters and paging of `listDeliveries`. */
export function validateListDeliveries(input: unknown): ValidDeliveryList {
  return parseInput(listDeliveriesSchema, input, QUERY);
}

/** Validates the paging of `list`. */
export function validateListEndpoints(input: unknown): { limit?: number | undefined; cursor?: string | undefined } {
  return parseInput(listEndpointsSchema, input, QUERY);
}

export function validateReplay(input: unknown): ValidReplay {
  return parseInput(replaySchema, input);
}

/** The prune cut-off: an instant as given, or `now - age`. */
export function validatePrune(input: unknown, nowMs: number): Date {
  const { olderThan } = parseInput(pruneSchema, input);
  return olderThan instanceof Date ? olderThan : new Date(nowMs - olderThan);
}
