import { createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidOptionsError } from '../errors.js';
import { secretStringKeys } from './hmac-keys.js';
import { STANDARD_WEBHOOKS_PREFIX, checkPrefixedSecret } from './secret-format.js';
import type { SignInput, VerifyInput, VerifyingScheme } from './scheme.js';
import { checkTimestamp } from './timestamp.js';
import { WebhookVerificationError } from './verification-error.js';

export interface HmacSha256HexOptions {
  /** Prefix of the three header names. Default `'X-Webhook'`; the YourAutomation seed uses `'X-YA-Webhook'`. */
  headerPrefix?: string;
  /**
   * What the secrets `verifyWebhook` gets start with: the sender's `secretPrefix` (WebhookService's
   * option). Default `'whsec_'`, as there; `''` for plain base64 secrets. Receivers only: signing keys
   * the HMAC with whatever secret the endpoint has.
   */
  secretPrefix?: string;
}

const HEADER_PREFIX = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const SIGNATURE_VALUE = /^sha256=[0-9a-f]{64}$/;
/** The same shape WebhookService accepts for its `secretPrefix`. */
const SECRET_PREFIX = /^(?:[A-Za-z0-9_]*_)?$/;

/**
 * The YourAutomation seed's scheme: `<prefix>-Id` (the endpoint id, as the seed shows),
 * `<prefix>-Timestamp` (unix seconds) and `<prefix>-Signature: sha256=<hex HMAC-SHA256 of the raw body,
 * keyed by the secret string>`. The seed's Node.js snippet accepts it unchanged.
 *
 * Two limits follow from the format. The header carries one signature, made with the endpoint's newest
 * secret, so after a rotation the receiver must switch to the new secret (or accept both) at once. And
 * the HMAC does not cover the timestamp, so a captured delivery can be replayed with a fresh timestamp
 * header; `verifyWebhook` still enforces the tolerance, and receivers should dedupe on the event id.
 */
export function hmacSha256Hex(options: HmacSha256HexOptions = {}): VerifyingScheme {
  const prefix = options.headerPrefix ?? 'X-Webhook';
  if (typeof prefix !== 'string' || !HEADER_PREFIX.test(prefix)) {
    throw new InvalidOptionsError([{ option: 'headerPrefix', message: 'must be letters, digits and inner hyphens, e.g. "X-YA-Webhook"' }]);
  }
  const secretPrefix = options.secretPrefix ?? STANDARD_WEBHOOKS_PREFIX;
  if (typeof secretPrefix !== 'string' || !SECRET_PREFIX.test(secretPrefix)) {
    throw new InvalidOptionsError([{ option: 'secretPrefix', message: 'must be empty or letters, digits and underscores ending with "_" (like "whsec_")' }]);
  }
  const idHeader = `${prefix}-Id`;
  const timestampHeader = `${prefix}-Timestamp`;
  const signatureHeader = `${prefix}-Signature`;
  const timestampLookup = timestampHeader.toLowerCase();
  const signatureLookup = signatureHeader.toLowerCase();

  return Object.freeze({
    name: 'hmac-sha256-hex',

    sign({ endpointId, timestamp, body, secrets }: SignInput): Record<string, string> {
      const newest = secrets[0];
      if (newest === undefined) throw new TypeError('hmacSha256Hex: an attempt needs at least one signing secret');
      const digest = createHmac('sha256', secretStringKeys.get(newest)).update(body).digest('hex');
      return {
        [idHeader]: endpointId,
        [timestampHeader]: String(Math.floor(timestamp)),
        [signatureHeader]: `sha256=${digest}`,
      };
    },

    verify({ payload, header, secrets, toleranceSeconds, nowSeconds }: VerifyInput): void {
      // Every secret first: a malformed one is refused wherever it sits in the list.
      const keys = secrets.map((secret) => {
        checkPrefixedSecret(secret, secretPrefix);
        return secretStringKeys.get(secret);
      });
      const timestamp = header(timestampLookup);
      const signature = header(signatureLookup);
      if (!timestamp || !signature) {
        const missing = [!timestamp && timestampHeader, !signature && signatureHeader].filter(Boolean);
        throw new WebhookVerificationError('MISSING_HEADERS', `missing ${missing.join(', ')}`);
      }
      // The HMAC does not cover this timestamp; checking it still bounds naive replays (see above).
      checkTimestamp(timestampHeader, timestamp, nowSeconds, toleranceSeconds);
      if (!SIGNATURE_VALUE.test(signature)) {
        throw new WebhookVerificationError('BAD_SIGNATURE', `${signatureHeader} is not "sha256=" followed by 64 lowercase hex digits`);
      }
      const received = Buffer.from(signature.slice(7), 'latin1');
      for (const key of keys) {
        const expected = Buffer.from(createHmac('sha256', key).update(payload).digest('hex'), 'latin1');
        if (timingSafeEqual(received, expected)) return;
      }
      throw new WebhookVerificationError('BAD_SIGNATURE', `${signatureHeader} does not match the secret`);
    },
  });
}
