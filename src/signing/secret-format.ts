import { InvalidOptionsError } from '../errors.js';

/** The prefix the Standard Webhooks spec and its npm verifiers (standardwebhooks, svix) strip. */
export const STANDARD_WEBHOOKS_PREFIX = 'whsec_';

const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The key bytes of a Standard Webhooks secret: `whsec_<base64>` or `<base64>` alone, as the
 * reference library reads it. Anything else is refused with an InvalidOptionsError naming the
 * problem (never the secret): another prefix (`whsek_…`, `x_y_…`), characters outside base64,
 * text after the padding, a wrong length or non-zero trailing bits. A lenient decoder would
 * quietly key the HMAC with whatever it could salvage, and a misconfiguration would pass.
 */
export function standardWebhooksKey(secret: string): Buffer {
  const encoded = secret.startsWith(STANDARD_WEBHOOKS_PREFIX) ? secret.slice(STANDARD_WEBHOOKS_PREFIX.length) : secret;
  if (encoded.includes('_')) {
    throw invalidSecret(`has a prefix other than '${STANDARD_WEBHOOKS_PREFIX}': a Standard Webhooks secret is '${STANDARD_WEBHOOKS_PREFIX}' followed by base64, or the base64 alone`);
  }
  return strictBase64(encoded, 'a Standard Webhooks secret');
}

/**
 * Checks a secret of a scheme that keys its HMAC with the whole secret string (hmacSha256Hex): it
 * must be `prefix` followed by strict base64, as WebhookService mints them with that prefix.
 */
export function checkPrefixedSecret(secret: string, prefix: string): void {
  if (!secret.startsWith(prefix)) {
    throw invalidSecret(`does not start with '${prefix}', the secret prefix this scheme is configured with (its secretPrefix option)`);
  }
  strictBase64(secret.slice(prefix.length), `a secret after '${prefix}'`);
}

/** Decodes canonical standard base64 (padding optional); refuses what Buffer.from would silently repair or skip. */
function strictBase64(encoded: string, what: string): Buffer {
  if (encoded.length === 0) throw invalidSecret(`has no key: ${what} needs base64 key bytes`);
  if (!BASE64_ALPHABET.test(encoded)) {
    throw invalidSecret(`is not valid base64: ${what} holds only A-Z, a-z, 0-9, '+' and '/', with '=' padding at the end`);
  }
  const bytes = Buffer.from(encoded, 'base64');
  const canonical = bytes.toString('base64');
  if (bytes.length === 0 || (encoded !== canonical && encoded !== canonical.replace(/=+$/, ''))) {
    throw invalidSecret(`is not valid base64: ${what} has a wrong length, misplaced padding or stray trailing bits`);
  }
  return bytes;
}

function invalidSecret(message: string): InvalidOptionsError {
  return new InvalidOptionsError([{ option: 'secret', message }]);
}
