import type { PortalOptions } from '../portal/portal.js';

/** Who is calling: the organization every route is scoped to, and the scopes its key grants. */
export interface Principal {
  orgId: string;
  scopes: readonly string[];
}

/**
 * The host's authentication hook. It receives the framework's own request object and returns
 * the caller's principal, or nothing (→ 401 UNAUTHORIZED). A thrown `WebhookError` is answered
 * with its own code; any other throw is a 500 INTERNAL.
 */
export type Authenticate<Req> = (request: Req) => Principal | null | undefined | Promise<Principal | null | undefined>;

/** `snake_case` follows the AgentMessage seed (`org_id`, `api_version`); `camelCase` the YourAutomation one. */
export type WireFormat = 'snake_case' | 'camelCase';

export interface WebhookHttpOptions<Req> {
  authenticate: Authenticate<Req>;
  /** Field casing of response and request bodies and query parameters. Default `'snake_case'`. */
  format?: WireFormat;
  /** Scope names the routes require. Default `{ read: 'webhooks:read', write: 'webhooks:write' }`. */
  scopes?: { read?: string; write?: string };
  /** Largest accepted request body in bytes. Default 64 KiB. */
  bodyLimit?: number;
  /**
   * Also serve the customer portal at `<mount>/portal/` (docs/portal.md): `true`, or `{ title, theme }`.
   * The page calls this API with the same `authenticate`. Default off.
   */
  portal?: boolean | PortalOptions;
}

/** A request body as the framework read it: raw bytes, a value a host parser already made, or absent. */
export type RequestBody =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'parsed'; value: unknown }
  | { kind: 'empty' };

/** A request the framework has routed: what a route's `answer` needs, and nothing framework-specific but `native`. */
export interface RouteRequest<Req> {
  /** The path's parameters (`id` for `:id`), each percent-decoded once by the framework. */
  params: Readonly<Record<string, string>>;
  /** The raw query string, without the leading `?` (may be empty); the API reads it itself. */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * The body; called only by routes that take one, and only after authentication. Throws or
   * rejects with a `WebhookError` (PAYLOAD_TOO_LARGE, BAD_REQUEST) when it could not be read.
   */
  body(): RequestBody | Promise<RequestBody>;
  /** The framework's request object, passed to `authenticate`. */
  native: Req;
  /** Method and path as sent, for the log line of an unexpected error. */
  method: string;
  url: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialized JSON, or `''` for responses without a body. */
  body: string;
}
