export type { SignInput, SigningScheme, VerifyInput, VerifyingScheme } from './scheme.js';
export { standardWebhooks } from './standard-webhooks.js';
export { hmacSha256Hex } from './hmac-sha256-hex.js';
export type { HmacSha256HexOptions } from './hmac-sha256-hex.js';
export { WebhookVerificationError, isWebhookVerificationError } from './verification-error.js';
export type { VerificationFailureCode } from './verification-error.js';
export { verifyWebhook } from './verify-webhook.js';
export type { VerifyWebhookOptions, VerifiedWebhookEvent } from './verify-webhook.js';
export type { ReceivedHeaders } from './received-headers.js';
