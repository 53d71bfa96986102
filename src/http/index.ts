export { webhookApi, DEFAULT_SCOPES } from './api.js';
export type { ApiPath, ApiRoute, WebhookApi } from './api.js';
export { DEFAULT_BODY_LIMIT } from './body.js';
export type { Authenticate, HttpResponse, Principal, RequestBody, RouteRequest, WebhookHttpOptions, WireFormat } from './types.js';
