import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Storage, WebhookError, WebhookService, isWebhookError } from 'hookrelay';
import { webhookFrameworkErrors, webhookPlugin } from 'hookrelay/fastify';
import type { ApiKeyStore } from './api-keys.js';
import { Wallets } from './wallets.js';

export interface AgentMessageOptions {
  storage: Storage;
  apiKeys: ApiKeyStore;
  /** Allow `http://127.0.0.1` endpoints: local development and the smoke test only. */
  allowLocalTargets?: boolean;
  /** Each organization's opening balance, in cents. Default 1000. */
  startingBalanceCents?: number;
}

/** The seed names one organization-level event. */
export const AGENTMESSAGE_EVENT_TYPES = ['wallet.balance_low'] as const;
export const MESSAGE_PRICE_CENTS = 100;
const LOW_BALANCE_THRESHOLD_CENTS = 500;
const E164 = /^\+[1-9][0-9]{1,14}$/;

/**
 * AgentMessage's API on hookrelay: the seed's `POST /v1/webhooks` (snake_case, `am_live_…` bearer
 * keys scoped to an org, base64 secrets shown once) and a messages route whose spend drives the
 * seed's `wallet.balance_low` event.
 */
export function createAgentMessageApp(options: AgentMessageOptions): { app: FastifyInstance; hooks: WebhookService; wallets: Wallets } {
  const hooks = new WebhookService({
    storage: options.storage,
    eventTypes: AGENTMESSAGE_EVENT_TYPES,
    apiVersions: { supported: ['2026-04-01'], deprecated: [], current: '2026-04-01' },
    // The seed shows a plain base64 secret ("qhhFHQ59…=") rather than a whsec_… one.
    secretPrefix: '',
    delivery: { allowHttp: options.allowLocalTargets ?? false, allowPrivateNetworks: options.allowLocalTargets ?? false },
  });
  const wallets = new Wallets(hooks, {
    startingBalanceCents: options.startingBalanceCents ?? 1000,
    lowBalanceThresholdCents: LOW_BALANCE_THRESHOLD_CENTS,
  });

  // frameworkErrors: a malformed percent-escape in the path gets the API's envelope too.
  const app = Fastify({ genReqId: () => randomUUID(), frameworkErrors: webhookFrameworkErrors() });
  const authenticate = (authorization: string | undefined, scope: string) => {
    const principal = options.apiKeys.authenticate(authorization);
    if (!principal) throw new WebhookError('UNAUTHORIZED', 'authentication failed');
    if (!principal.scopes.includes(scope)) throw new WebhookError('FORBIDDEN', 'missing required scope');
    return principal;
  };

  // The seed's webhook routes: hookrelay's REST API, snake_case (its default), under /v1.
  void app.register(webhookPlugin, {
    service: hooks,
    prefix: '/v1',
    authenticate: (request) => options.apiKeys.authenticate(request.headers.authorization),
  });

  // The product. Each accepted message costs credit; crossing the low-balance line emits the event.
  app.post('/v1/messages', async (request, reply) => {
    const { orgId } = authenticate(request.headers.authorization, 'messages:write');
    const body = (request.body ?? {}) as { to?: unknown; body?: unknown };
    const details: Record<string, string> = {};
    // The seed's own validation example, word for word.
    if (typeof body.to !== 'string' || !E164.test(body.to)) details.to = 'must be E.164';
    if (typeof body.body !== 'string' || body.body.length < 1 || body.body.length > 1600) details.body = 'must be 1..1600 chars';
    if (Object.keys(details).length) throw new WebhookError('VALIDATION_FAILED', 'validation failed', { details });
    if (!(await wallets.debit(orgId, MESSAGE_PRICE_CENTS))) throw new WebhookError('CONFLICT', 'insufficient wallet balance');
    return reply.code(202).send({ id: randomUUID(), org_id: orgId, to: body.to, status: 'queued' });
  });

  app.get('/v1/wallet', async (request) => {
    const { orgId } = authenticate(request.headers.authorization, 'wallet:read');
    const wallet = wallets.get(orgId);
    return { balance_cents: wallet.balanceCents, currency: wallet.currency, low_balance_threshold_cents: wallet.lowBalanceThresholdCents };
  });

  // The product routes, and unknown routes, answer in the seed's envelope too.
  app.setErrorHandler((error, request, reply) => {
    const known = asWebhookError(error);
    if (known.code === 'INTERNAL') request.log.error(error);
    return reply.code(known.status).send({ success: false, error: { ...known.toJSON(), request_id: request.id } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ success: false, error: { code: 'NOT_FOUND', message: 'no such route', request_id: request.id } }),
  );

  return { app, hooks, wallets };
}

/** Fastify's own body errors carry a 4xx `statusCode`: the caller's fault, answered as such, never a 500. */
function asWebhookError(error: unknown): WebhookError {
  if (isWebhookError(error)) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 413) return new WebhookError('PAYLOAD_TOO_LARGE', 'request body too large');
  if (status === 415) return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  if (typeof status === 'number' && status >= 400 && status < 500) return new WebhookError('BAD_REQUEST', 'request body could not be read');
  return new WebhookError('INTERNAL', 'internal error');
}
