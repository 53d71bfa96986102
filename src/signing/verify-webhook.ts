import { InvalidOptionsError } from '../errors.js';
import { type ReceivedHeaders, headerReader } from './received-headers.js';
import type { VerifyingScheme } from './scheme.js';
import { standardWebhooks } from './standard-webhooks.js';
import { WebhookVerificationError } from './verification-error.js';

export interface VerifyWebhookOptions {
  /** The raw request body exactly as received: a string, Buffer or Uint8Array. Not a parsed object. */
  payload: string | Uint8Array;
  /** The request headers: a fetch `Headers`, Node's `req.headers`, or a plain object in any case. */
  headers: ReceivedHeaders;
  /** The endpoint's signing secret, or several during a rotation: a signature by any one of them is accepted. */
  secret: string | readonly string[];
  /** The scheme the sender uses: `standardWebhooks()` (default) or `hmacSha256Hex({ headerPrefix })`, as configured there. */
  scheme?: VerifyingScheme;
  /** How far the timestamp header may be from now, either way. Default 300 (5 minutes). */
  toleranceSeconds?: number;
  /** The current time (a Date or epoch milliseconds); for tests. Default `Date.now()`. */
  now?: Date | number;
}

/** A verified delivery's body. `data` is the sender's payload, not validated against `TData`. */
export interface VerifiedWebhookEvent<TData = unknown> {
  /** The event id (`evt_…`): stable across retries, so dedupe on it. */
  id: string;
  type: string;
  data: TData;
  /** ISO 8601 time the event was emitted. */
  createdAt: string;
}

const DEFAULT_SCHEME = standardWebhooks();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks that a received delivery was signed by one of `secret` within the time tolerance and returns
 * its event. Every rejection is a `WebhookVerificationError` with a `code`; comparison is constant-time.
 */
export function verifyWebhook<TData = unknown>(options: VerifyWebhookOptions): VerifiedWebhookEvent<TData> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError([{ option: 'options', message: 'must be an object { payload, headers, secret }' }]);
  }
  const { payload, headers, scheme = DEFAULT_SCHEME, toleranceSeconds = 300, now } = options;
  const secrets = secretList(options.secret);
  if (typeof scheme !== 'object' || scheme === null || typeof scheme.verify !== 'function') {
    throw new InvalidOptionsError([{ option: 'scheme', message: 'must be standardWebhooks() or hmacSha256Hex(…)' }]);
  }
  if (typeof toleranceSeconds !== 'number' || !Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new InvalidOptionsError([{ option: 'toleranceSeconds', message: 'must be a non-negative number of seconds' }]);
  }
  const nowMs = now === undefined ? Date.now() : now instanceof Date ? now.getTime() : now;
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new InvalidOptionsError([{ option: 'now', message: 'must be a valid Date or epoch milliseconds' }]);
  }
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    throw new WebhookVerificationError(
      'BAD_PAYLOAD',
      'payload must be the raw request body (string, Buffer or Uint8Array), not a parsed object: read it with express.raw() or request.text()',
    );
  }

  scheme.verify({ payload, header: headerReader(headers), secrets, toleranceSeconds, nowSeconds: Math.floor(nowMs / 1000) });
  return parseEvent<TData>(payload);
}

function secretList(secret: unknown): readonly string[] {
  const list = typeof secret === 'string' ? [secret] : secret;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new InvalidOptionsError([{ option: 'secret', message: 'must be a non-empty string or a non-empty list of them' }]);
  }
  return list as readonly string[];
}

function parseEvent<TData>(payload: string | Uint8Array): VerifiedWebhookEvent<TData> {
  let body: unknown;
  try {
    body = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload));
  } catch {
    throw new WebhookVerificationError('BAD_PAYLOAD', 'the body is not UTF-8 JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebhookVerificationError('BAD_PAYLOAD', 'the body is not a JSON object');
  }
  const { id, type, data, createdAt } = body as Record<string, unknown>;
  if (typeof id !== 'string' || typeof type !== 'string' || typeof createdAt !== 'string' || !('data' in body)) {
    throw new WebhookVerificationError('BAD_PAYLOAD', 'the body is not a webhook event { id, type, data, createdAt }');
  }
  return { id, type, data: data as TData, createdAt };
}
