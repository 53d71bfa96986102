import type { Duration } from '../duration.js';
import { WebhookError } from '../errors.js';
import type { DeliveryStatus } from '../model.js';

export interface EmitInput {
  /** An event type from the catalog. */
  type: string;
  /** Any JSON value; sent as the body's `data`. Endpoint filters compare against its keys. */
  data: unknown;
  /** Emitting again with the same key in the same org returns the first event and writes nothing. */
  idempotencyKey?: string | null;
}

export interface ListDeliveriesOptions {
  endpointId?: string;
  eventId?: string;
  status?: DeliveryStatus;
  /** Created at or after (Date or ISO 8601 string). */
  since?: Date | string;
  /** Created before (Date or ISO 8601 string). */
  until?: Date | string;
  /** 1..100, default 20. */
  limit?: number;
  cursor?: string | null;
}

export interface ReplayOptions {
  /** Created at or after (Date or ISO 8601 string). */
  since: Date | string;
  /** Created before; default: now. */
  until?: Date | string;
  /** Which finished deliveries to send again; default both `succeeded` and `failed`. */
  status?: 'succeeded' | 'failed' | 'cancelled';
}

export interface PruneOptions {
  /** A cut-off instant, or an age such as `'30d'`: finished deliveries completed before it are deleted. */
  olderThan: Date | Duration;
}

export function payloadTooLarge(bytes: number, limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `the event body is ${bytes} bytes; the limit is ${limit} (limits.maxPayloadBytes)`, {
    details: { data: `serialized body must be at most ${limit} bytes` },
  });
}
