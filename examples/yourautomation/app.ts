import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type Duration, type Storage, WebhookError, WebhookService, hmacSha256Hex } from 'hookrelay';
import { type Principal, webhookRouter } from 'hookrelay/express';
import { YOUR_AUTOMATION_EVENT_TYPES } from './events.js';
import { type OrgContact, type RenderedEmail, renderPauseEmail } from './pause-notification.js';

export interface YourAutomationOptions {
  storage: Storage;
  /** Bearer API key → the organization it belongs to (and the scopes it grants). */
  apiKeys: ReadonlyMap<string, Principal>;
  /** Who gets the "webhook paused" email for an organization. */
  contactFor(orgId: string): OrgContact;
  /** Sends a rendered email (here: console or file). */
  sendEmail(email: RenderedEmail): Promise<unknown>;
  /** Base URL shown in emails, e.g. `https://api.yourautomation.example`. */
  apiBaseUrl(): string;
  /** The seed's policy by default: 1s, 5s, 30s, 2min, 10min. Tests pass a faster one. */
  retrySchedule?: readonly Duration[];
  /** Allow `http://127.0.0.1` endpoints: local development and the smoke test only. */
  allowLocalTargets?: boolean;
  /** How often the scheduler looks for due retries when nothing wakes it. Default 1 s; a schedule in milliseconds needs less. */
  pollInterval?: Duration;
}

/** The seed's policy, verbatim: "retried up to 5 times with exponential backoff: 1s, 5s, 30s, 2min, 10min". */
export const YOUR_AUTOMATION_RETRY_SCHEDULE = ['1s', '5s', '30s', '2m', '10m'] as const;

/**
 * YourAutomation's API on hookrelay: the seed's webhook routes (camelCase, `agentId` filter,
 * `X-YA-Webhook-*` signatures), plus two product routes that emit events the way a real host does.
 */
export function createYourAutomationApp(options: YourAutomationOptions): { app: express.Express; hooks: WebhookService } {
  const retrySchedule = options.retrySchedule ?? YOUR_AUTOMATION_RETRY_SCHEDULE;
  const hooks = new WebhookService({
    storage: options.storage,
    eventTypes: YOUR_AUTOMATION_EVENT_TYPES,
    // "X-YA-Webhook-Signature: sha256=<hex HMAC of the raw body>", with the -Id and -Timestamp headers.
    signing: hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }),
    retry: { schedule: retrySchedule },
    delivery: {
      allowHttp: options.allowLocalTargets ?? false,
      allowPrivateNetworks: options.allowLocalTargets ?? false,
      ...(options.pollInterval === undefined ? {} : { pollInterval: options.pollInterval }),
    },
    async onEndpointPaused(info) {
      const contact = options.contactFor(info.endpoint.orgId);
      // The email names the schedule in use, which YA_RETRY_SCHEDULE (or a test) may have replaced.
      await options.sendEmail(renderPauseEmail(info, contact, { apiBaseUrl: options.apiBaseUrl(), retrySchedule }));
    },
  });

  const authenticate = (req: Request): Principal | undefined => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    return match ? options.apiKeys.get(match[1] as string) : undefined;
  };

  const app = express();
  app.use('/v1/webhooks', express.json({ limit: '64kb' }), agentIdAsFilter);
  app.use('/v1', webhookRouter(hooks, { authenticate, format: 'camelCase' }));

  // The product's own routes. Each emits through hookrelay; delivery happens in the background.
  app.post('/v1/agents', express.json(), async (req, res, next) => {
    try {
      const principal = requirePrincipal(authenticate(req));
      const agentId = `agt_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const name = typeof req.body?.name === 'string' ? req.body.name : 'unnamed agent';
      await hooks.emit(principal.orgId, { type: 'agent.created', data: { agentId, name } });
      res.status(201).json({ id: agentId, name });
    } catch (error) {
      next(error);
    }
  });

  app.post('/v1/agents/:agentId/executions', express.json(), async (req, res, next) => {
    try {
      const principal = requirePrincipal(authenticate(req));
      const agentId = String(req.params.agentId);
      const executionId = `exec_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const startedAt = Date.now();
      await hooks.emit(principal.orgId, { type: 'execution.started', data: { executionId, agentId, status: 'running' } });
      const output = `I'd be happy to help with: ${String(req.body?.input ?? '')}`.slice(0, 200);
      // The seed's execution.completed payload, field for field.
      await hooks.emit(principal.orgId, {
        type: 'execution.completed',
        data: { executionId, agentId, status: 'completed', output, usage: { totalTokens: 231 }, duration: Date.now() - startedAt },
      });
      res.status(201).json({ executionId, agentId, status: 'completed' });
    } catch (error) {
      next(error);
    }
  });

  // Everything else, and every error outside hookrelay's router, answers in the same envelope.
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new WebhookError('NOT_FOUND', 'no such route')));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const known = asWebhookError(error);
    if (known.code === 'INTERNAL') console.error(error);
    res.status(known.status).json({ success: false, error: { ...known.toJSON(), request_id: randomUUID() } });
  });

  return { app, hooks };
}

/** express.json() rejects unreadable bodies with a 4xx `status`; those are the caller's fault, not a 500. */
function asWebhookError(error: unknown): WebhookError {
  if (error instanceof WebhookError) return error;
  const status = (error as { status?: unknown }).status;
  if (status === 413) return new WebhookError('PAYLOAD_TOO_LARGE', 'request body too large');
  if (status === 415) return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  if (typeof status === 'number' && status >= 400 && status < 500) return new WebhookError('BAD_REQUEST', 'request body could not be read');
  return new WebhookError('INTERNAL', 'internal error');
}

function requirePrincipal(principal: Principal | undefined): Principal {
  if (!principal) throw new WebhookError('UNAUTHORIZED', 'authentication failed');
  return principal;
}

/**
 * The seed puts `agentId` at the top level of the webhook object; hookrelay keeps any such
 * attribute filter in `filter` (it matches the same key of each event's `data`). This adapter
 * keeps the seed's shape on the wire: `agentId` in a request becomes `filter: { agentId }`, and
 * `filter.agentId` in a response becomes `agentId` again.
 */
function agentIdAsFilter(req: Request, res: Response, next: NextFunction): void {
  const body: unknown = req.body;
  if (isObject(body) && 'agentId' in body) {
    const { agentId, ...rest } = body;
    req.body = { ...rest, filter: agentId === null ? null : { agentId } };
  }
  const end = res.end.bind(res) as (chunk?: unknown, ...args: unknown[]) => Response;
  res.end = ((chunk?: unknown, ...args: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{') && String(res.getHeader('content-type') ?? '').startsWith('application/json')) {
      const reshaped = JSON.stringify(reshapeResponse(JSON.parse(chunk) as unknown));
      res.setHeader('content-length', Buffer.byteLength(reshaped));
      return end(reshaped, ...args);
    }
    return end(chunk, ...args);
  }) as Response['end'];
  next();
}

function reshapeResponse(payload: unknown): unknown {
  if (!isObject(payload)) return payload;
  if (isObject(payload.error) && isObject(payload.error.details) && 'filter' in payload.error.details) {
    const { filter, ...details } = payload.error.details;
    return { ...payload, error: { ...payload.error, details: { ...details, agentId: filter } } };
  }
  if (Array.isArray(payload.data)) return { ...payload, data: payload.data.map(reshapeWebhook) };
  return reshapeWebhook(payload);
}

function reshapeWebhook(value: unknown): unknown {
  if (!isObject(value) || !('filter' in value)) return value;
  const { filter, ...rest } = value;
  return { ...rest, agentId: isObject(filter) && typeof filter.agentId === 'string' ? filter.agentId : null };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
