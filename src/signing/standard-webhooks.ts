import { createHmac, timingSafeEqual } from 'node:crypto';
import { standardWebhooksKeys } from './hmac-keys.js';
import type { SignInput, VerifyInput, VerifyingScheme } from './scheme.js';
import { checkTimestamp } from './timestamp.js';
import { WebhookVerificationError } from './verification-error.js';

/** Length of a base64 HMAC-SHA256 digest, the only length a `v1,` signature can have. */
const V1_SIGNATURE_LENGTH = 44;

/**
 * The Standard Webhooks scheme (https://www.standardwebhooks.com), the default: `webhook-id` (the event
 * id, stable across retries), `webhook-timestamp` (unix seconds of the attempt) and `webhook-signature`,
 * one `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per active secret, space-separated, so that a
 * receiver holding either the old or the new secret accepts deliveries during a rotation's grace period.
 * The `standardwebhooks` and `svix` npm verifiers accept what it sends.
 */
export function standardWebhooks(): VerifyingScheme {
  return STANDARD_WEBHOOKS;
}

const STANDARD_WEBHOOKS: VerifyingScheme = Object.freeze({
  name: 'standard-webhooks',

  sign({ eventId, timestamp, body, secrets }: SignInput): Record<string, string> {
    if (secrets.length === 0) throw new TypeError('standardWebhooks: an attempt needs at least one signing secret');
    // A fractional timestamp would be signed as written but parsed as an integer by receivers.
    const seconds = String(Math.floor(timestamp));
    const signedContent = `${eventId}.${seconds}.${body}`;
    let signature = '';
    for (const secret of secrets) {
      const digest = createHmac('sha256', standardWebhooksKeys.get(secret)).update(signedContent).digest('base64');
      signature = signature === '' ? `v1,${digest}` : `${signature} v1,${digest}`;
    }
    return { 'webhook-id': eventId, 'webhook-timestamp': seconds, 'webhook-signature': signature };
  },

  verify({ payload, header, secrets, toleranceSeconds, nowSeconds }: VerifyInput): void {
    // Every key first: a secret without key material is refused wherever it sits in the list.
    const keys = secrets.map((secret) => standardWebhooksKeys.get(secret));
    // svix-* are the same headers under Svix's older names; its own verifier accepts both.
    const id = header('webhook-id') ?? header('svix-id');
    const timestamp = header('webhook-timestamp') ?? header('svix-timestamp');
    const signatureHeader = header('webhook-signature') ?? header('svix-signature');
    if (!id || !timestamp || !signatureHeader) {
      const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signatureHeader && 'webhook-signature'].filter(Boolean);
      throw new WebhookVerificationError('MISSING_HEADERS', `missing ${missing.join(', ')}`);
    }
    checkTimestamp('webhook-timestamp', timestamp, nowSeconds, toleranceSeconds);

    const candidates = v1Signatures(signatureHeader);
    if (candidates.length === 0) throw new WebhookVerificationError('BAD_SIGNATURE', 'webhook-signature holds no v1 signature');

    const signedPrefix = `${id}.${timestamp}.`;
    for (const key of keys) {
      const hmac = createHmac('sha256', key).update(signedPrefix);
      const expected = Buffer.from(hmac.update(payload).digest('base64'), 'latin1');
      for (const candidate of candidates) {
        if (timingSafeEqual(candidate, expected)) return;
      }
    }
    throw new WebhookVerificationError('BAD_SIGNATURE', 'no signature in webhook-signature matches the secret');
  },
});

/**
 * One `version,signature` entry. Neither half holds a comma or whitespace (base64 has neither), so an
 * entry is bounded by the ends, whitespace or a comma: entries are space-separated, and a repeated header
 * joined by Headers#get or Node (", ") or by some proxies (",") separates them with commas too.
 */
const SIGNATURE_ENTRY = /(?<![^\s,])([^\s,]+),([^\s,]+)(?![^\s,])/g;

/**
 * The well-formed `v1` signatures of a webhook-signature value, as bytes, in any position. Other versions
 * (v1a asymmetric signatures, future ones) are skipped, as the reference verifier does.
 */
function v1Signatures(header: string): Buffer[] {
  const candidates: Buffer[] = [];
  for (const [, version, signature] of header.matchAll(SIGNATURE_ENTRY)) {
    if (version !== 'v1' || signature === undefined || signature.length !== V1_SIGNATURE_LENGTH) continue;
    // utf8, not latin1: a non-ASCII character must change the bytes, never alias an ASCII one.
    const bytes = Buffer.from(signature, 'utf8');
    if (bytes.length === V1_SIGNATURE_LENGTH) candidates.push(bytes);
  }
  return candidates;
}
