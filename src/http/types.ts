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
}

/** A request body as the adapter has it: raw bytes, already parsed by the host, or absent. */
export type RequestBody =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'parsed'; value: unknown }
  | { kind: 'empty' };

/** What an adapter hands the shared handler; nothing framework-specific but `native`. */
export interface HttpRequest<Req> {
  method: string;
  /**
   * Path below the mount point, starting with `/`, without the query string, as sent: the
   * handler decodes each segment's percent-escapes once, so adapters must not decode it.
   */
  path: string;
  /** The raw query string, without the leading `?` (may be empty). */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Reads the body; called only by routes that take one, and only after authentication.
   * Rejects with a `WebhookError` (PAYLOAD_TOO_LARGE, BAD_REQUEST) when it cannot be read.
   */
  readBody(): Promise<RequestBody>;
  /** The framework's request object, passed to `authenticate`. */
  native: Req;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialized JSON, or `''` for responses without a body. */
  body: string;
}
