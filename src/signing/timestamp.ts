import { WebhookVerificationError } from './verification-error.js';

// Digits only: parseInt-style leniency would let "1710547200abc" through as a valid timestamp.
const UNIX_SECONDS = /^\d{1,15}$/;

/** Parses a timestamp header and enforces the tolerance window around `nowSeconds`; returns unix seconds. */
export function checkTimestamp(headerName: string, raw: string, nowSeconds: number, toleranceSeconds: number): number {
  if (!UNIX_SECONDS.test(raw)) throw new WebhookVerificationError('MISSING_HEADERS', `${headerName} is not a unix timestamp in seconds`);
  const timestamp = Number(raw);
  if (nowSeconds - timestamp > toleranceSeconds) {
    throw new WebhookVerificationError('TIMESTAMP_TOO_OLD', `${headerName} is more than ${toleranceSeconds}s in the past`);
  }
  if (timestamp - nowSeconds > toleranceSeconds) {
    throw new WebhookVerificationError('TIMESTAMP_TOO_NEW', `${headerName} is more than ${toleranceSeconds}s in the future`);
  }
  return timestamp;
}
