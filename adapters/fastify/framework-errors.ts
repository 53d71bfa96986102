import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { WebhookApi } from '../../src/http/api.js';
import { decodePath, decodeSegment, firstSegment } from '../../src/http/path.js';
import type { HttpResponse } from '../../src/http/types.js';

/** Fastify's `frameworkErrors` server option. */
export type FrameworkErrors = NonNullable<FastifyServerOptions['frameworkErrors']>;

/** A host's own `frameworkErrors` handler, for the framework errors the API does not answer. */
export type FrameworkErrorsFallback = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void;

interface Mount {
  /** The plugin's prefix as segments (`/orgs/:org/v1` → `['orgs', ':org', 'v1']`). */
  prefix: readonly string[];
  api: WebhookApi<FastifyRequest>;
}

/** The plugins registered on each server, for `webhookFrameworkErrors`, which runs before any route or plugin. */
const mountsByServer = new WeakMap<object, Mount[]>();

/** Called by the plugin: its prefix and API, for the malformed paths Fastify's router refuses before routing. */
export function addMount(server: object, prefix: string, api: WebhookApi<FastifyRequest>): void {
  const mount = { prefix: prefix.split('/').filter((segment) => segment !== ''), api };
  const mounts = mountsByServer.get(server);
  if (mounts) mounts.push(mount);
  else mountsByServer.set(server, [mount]);
}

export function send(reply: FastifyReply, response: HttpResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** The raw path of a request target, also in absolute form (`http://host/v1/…`), without query or fragment. */
function pathOf(url: string): string {
  const origin = url.charCodeAt(0) === 47 /* '/' */ ? null : /^https?:\/\/[^/?#]*/i.exec(url);
  const target = origin ? url.slice(origin[0].length) || '/' : url;
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

/** True when the raw segments start with the prefix: each decoded once, `:param` matching any. */
function startsWithPrefix(raw: readonly string[], prefix: readonly string[]): boolean {
  if (raw.length < prefix.length) return false;
  return prefix.every((expected, i) => {
    const actual = raw[i] as string;
    return expected.startsWith(':') ? actual !== '' : decodeSegment(actual) === expected;
  });
}

/** The raw path below `depth` prefix segments: `/v1/webhooks/wh%5F1`, depth 1 → `/webhooks/wh%5F1`. */
function below(path: string, depth: number): string {
  let start = 0;
  for (let i = 0; i < depth && start !== -1; i++) start = path.indexOf('/', start + 1);
  return start === -1 ? '/' : path.slice(start);
}

/**
 * The mounted API whose paths hold this malformed one. Only percent-encoding failures are
 * taken: Fastify's other bad URLs (a fragment in an absolute target, say) may decode fine.
 */
function ownerOfMalformed(request: FastifyRequest): WebhookApi<FastifyRequest> | null {
  if (request.method === 'OPTIONS') return null;
  const path = pathOf(request.url);
  const raw = path.split('/').slice(1);
  for (const { prefix, api } of mountsByServer.get(request.server.server) ?? []) {
    if (!startsWithPrefix(raw, prefix)) continue;
    const rest = below(path, prefix.length);
    const first = firstSegment(rest);
    if (first !== null && api.namespaces.includes(`/${first}`) && decodePath(rest) === null) return api;
  }
  return null;
}

/** Fastify's documented fallback: the error goes to the host's root error handler. */
const sendError: FrameworkErrorsFallback = (error, _request, reply) => {
  reply.send(error);
};

/**
 * For `Fastify({ frameworkErrors: webhookFrameworkErrors() })`. Fastify's router answers a
 * malformed percent-escape in the path (`/v1/webhooks/%zz`) itself, before any route or plugin
 * runs, so only this server option can give those requests the API's envelope (a 404, as on
 * Express). Requests outside the plugins' paths, and other framework errors, go to `fallback`.
 */
export function webhookFrameworkErrors(fallback: FrameworkErrorsFallback = sendError): FrameworkErrors {
  return (error, genericRequest, genericReply) => {
    const request = genericRequest as FastifyRequest;
    const reply = genericReply as FastifyReply;
    const owner = error.code === 'FST_ERR_BAD_URL' ? ownerOfMalformed(request) : null;
    if (owner === null) return fallback(error, request, reply);
    send(reply, owner.notFound(request.headers));
  };
}
