/**
 * Why a received webhook was rejected:
 * - `MISSING_HEADERS`: a required header is absent or unreadable (e.g. a timestamp that is not unix seconds)
 * - `TIMESTAMP_TOO_OLD` / `TIMESTAMP_TOO_NEW`: the timestamp is outside the tolerance (replay protection)
 * - `BAD_SIGNATURE`: no signature matches any of the secrets
 * - `BAD_PAYLOAD`: the signature matched but the body is not a webhook event, or the body given is not raw
 */
export type VerificationFailureCode = 'MISSING_HEADERS' | 'TIMESTAMP_TOO_OLD' | 'TIMESTAMP_TOO_NEW' | 'BAD_SIGNATURE' | 'BAD_PAYLOAD';

/** The only error `verifyWebhook` throws for anything a request carries. Its message never contains a secret. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: VerificationFailureCode;

  /** `options.cause`: what failed underneath, e.g. a headers getter that threw. */
  constructor(code: VerificationFailureCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export function isWebhookVerificationError(value: unknown): value is WebhookVerificationError {
  return value instanceof WebhookVerificationError;
}
