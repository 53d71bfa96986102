import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { webhookRouter } from '../../adapters/express/index.js';
import { webhookFrameworkErrors, webhookPlugin } from '../../adapters/fastify/index.js';
import type { Principal, WebhookHttpOptions } from '../../src/http/types.js';
import type { Logger } from '../../src/logger.js';
import { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';

export const MOUNT = '/v1';
export const EVENT_TYPES = ['execution.completed', 'execution.failed', 'tool.error', 'wallet.balance_low'] as const;
export const API_VERSIONS = { supported: ['2026-04-01', '2025-01-01'], deprecated: ['2025-01-01'], current: '2026-04-01' };

/**
 * Bearer tokens the test `authenticate` knows: `<scopes>-<org>`. `boom` makes authenticate throw
 * an error whose message must never reach the caller.
 */
export const TOKENS = {
  rw1: { orgId: 'org_1', scopes: ['webhooks:read', 'webhooks:write'] },
  r1: { orgId: 'org_1', scopes: ['webhooks:read'] },
  w1: { orgId: 'org_1', scopes: ['webhooks:write'] },
  none1: { orgId: 'org_1', scopes: [] },
  rw2: { orgId: 'org_2', scopes: ['webhooks:read', 'webhooks:write'] },
} satisfies Record<string, Principal>;
export type Token = keyof typeof TOKENS | 'boom' | 'boom-undescribable' | 'bad-principal' | 'nul-principal' | 'unknown-token';
export const LEAKY_MESSAGE = 'connection string postgres://admin:hunter2@db.internal/prod';

function principalFor(authorization: string | string[] | undefined): Principal | null {
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return null;
  const token = authorization.slice('Bearer '.length);
  if (token === 'boom') throw new Error(LEAKY_MESSAGE);
  // A thrown value on which String() itself throws: logging it must not break the answer.
  if (token === 'boom-undescribable') throw Object.create(null);
  if (token === 'bad-principal') return { orgId: '', scopes: [] };
  if (token === 'nul-principal') return { orgId: 'org_\u0000_1', scopes: ['webhooks:read', 'webhooks:write'] };
  return (TOKENS as Record<string, Principal>)[token] ?? null;
}

export interface Mounted {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  close(): Promise<void>;
}

export type MountOptions = Omit<WebhookHttpOptions<unknown>, 'authenticate'>;

export interface Harness {
  name: 'express' | 'fastify';
  mount(service: WebhookService, options?: MountOptions): Promise<Mounted>;
}

export const expressHarness: Harness = {
  name: 'express',
  async mount(service, options = {}) {
    const app = express();
    app.use(MOUNT, webhookRouter(service, { ...options, authenticate: (req) => principalFor(req.headers.authorization) }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    const { port } = server.address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}${MOUNT}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
};

export const fastifyHarness: Harness = {
  name: 'fastify',
  async mount(service, options = {}) {
    // As docs/rest-api.md tells hosts: without it, Fastify's router answers malformed percent-escapes itself.
    const app = Fastify({ frameworkErrors: webhookFrameworkErrors() });
    await app.register(webhookPlugin, {
      ...options,
      service,
      prefix: MOUNT,
      authenticate: (req) => principalFor(req.headers.authorization),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { baseUrl: `http://127.0.0.1:${port}${MOUNT}`, close: () => app.close() };
  },
};

export const HARNESSES = [expressHarness, fastifyHarness];

/** A logger that keeps what it is given, to check what a 500 logged. */
export function recordingLogger(): Logger & { errors: { obj: object; msg: string | undefined }[] } {
  const errors: { obj: object; msg: string | undefined }[] = [];
  const noop = (): void => {};
  return { debug: noop, info: noop, warn: noop, error: (obj, msg) => errors.push({ obj, msg }), errors };
}

export function newService(overrides: Partial<ConstructorParameters<typeof WebhookService>[0]> = {}): WebhookService {
  return new WebhookService({
    storage: memoryStorage(),
    eventTypes: [...EVENT_TYPES],
    apiVersions: API_VERSIONS,
    delivery: { allowHttp: true, allowPrivateNetworks: true },
    logger: recordingLogger(),
    ...overrides,
  });
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed body; undefined when empty. */
  json: any;
}

export interface RequestSpec {
  token?: Token | null;
  /** An object is sent as JSON with `content-type: application/json`; a string as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A small client for the mounted API; `path` is below the mount point. */
export function client(baseUrl: string) {
  return async function api(method: string, path: string, spec: RequestSpec = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {};
    const token = spec.token === undefined ? 'rw1' : spec.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (typeof spec.body === 'string') body = spec.body;
    else if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, spec.headers);
    const response = await fetch(baseUrl + path, { method, headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
}

export type Api = ReturnType<typeof client>;
