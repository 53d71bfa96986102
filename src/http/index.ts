export { createWebhookHandler, DEFAULT_SCOPES } from './handler.js';
export type { WebhookHttpHandler } from './handler.js';
export { DEFAULT_BODY_LIMIT } from './body.js';
export type { Authenticate, HttpRequest, HttpResponse, Principal, RequestBody, WebhookHttpOptions, WireFormat } from './types.js';
