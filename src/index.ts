export { WebhookService } from './service.js';
export type { EndpointWithSecret, ListOptions } from './service.js';
export type { WebhookServiceOptions, EndpointPausedInfo } from './options.js';
export { DEFAULT_RETRY_SCHEDULE } from './options.js';
export type { CreateEndpointInput, UpdateEndpointInput } from './endpoints.js';
export { WebhookError, InvalidOptionsError, ERROR_STATUS, isWebhookError } from './errors.js';
export type { WebhookErrorCode, ErrorDetails } from './errors.js';
export type * from './model.js';
export type * from './storage/storage.js';
export { MemoryStorage, memoryStorage } from './storage/memory.js';
export type { Clock } from './clock.js';
export type { Logger } from './logger.js';
export type { Duration } from './duration.js';
export { parseDuration } from './duration.js';
export type { SigningScheme, SignInput, VerifyInput, VerifyingScheme } from './signing/scheme.js';
export { standardWebhooks, hmacSha256Hex, verifyWebhook, WebhookVerificationError, isWebhookVerificationError } from './signing/index.js';
export type { HmacSha256HexOptions, VerifyWebhookOptions, VerifiedWebhookEvent, VerificationFailureCode, ReceivedHeaders } from './signing/index.js';
export type { EmitResult, EmitOptions } from './service.js';
export type { EmitInput, ListDeliveriesOptions, ReplayOptions, PruneOptions } from './delivery/delivery-input.js';
export type {
  DeliveryEventMap,
  DeliveryEventName,
  DeliveryListener,
  AttemptEvent,
  FailureEvent,
  EndpointPausedEvent,
} from './delivery/delivery-events.js';
export { TEST_EVENT_TYPE } from './delivery/payload.js';
export { checkAddress } from './net/address-policy.js';
export type { AddressVerdict } from './net/address-policy.js';
export { webhookApi, DEFAULT_SCOPES, DEFAULT_BODY_LIMIT } from './http/index.js';
export type {
  WebhookApi,
  ApiRoute,
  ApiPath,
  RouteRequest,
  WebhookHttpOptions,
  Authenticate,
  Principal,
  HttpResponse,
  RequestBody,
  WireFormat,
} from './http/index.js';
