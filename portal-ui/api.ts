/**
 * The portal's REST client. It calls only the API it is mounted under (`<mount>/portal/` → `<mount>/`),
 * so it can do nothing and see nothing the API would not allow that caller.
 *
 * Authentication is the host's: fetches send same-origin cookies, and when the page was opened with
 * `#access_token=<token>` that token is kept in sessionStorage (the fragment never reaches a server
 * and is removed from the address bar at once) and sent as `Authorization: Bearer <token>`.
 */
export type Json = Record<string, any>;

export interface ApiError {
  status: number;
  code: string;
  message: string;
  details: Record<string, string>;
}

export type Result<T = Json> = { ok: true; status: number; data: T } | { ok: false; error: ApiError };

const TOKEN_KEY = 'hookrelay.portal.token';

/** Takes a token handed over in the fragment, once; afterwards the session keeps it. */
export function takeToken(): string | null {
  const match = /^#access_token=([^&]+)/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1] as string);
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* storage disabled: the token lives as long as the page */
    }
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    return token;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export class Api {
  private readonly base: URL;
  private readonly snake: boolean;
  private readonly token: string | null;

  constructor(format: string, token: string | null) {
    this.base = new URL('../', location.href);
    this.snake = format !== 'camelCase';
    this.token = token;
  }

  /** A field's name on the wire, from its camelCase name. */
  name(camel: string): string {
    return this.snake ? camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : camel;
  }

  get<T = any>(object: Json, camel: string): T {
    return object[this.name(camel)] as T;
  }

  async request<T = Json>(method: string, path: string, body?: unknown): Promise<Result<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      return { ok: false, error: { status: 0, code: 'NETWORK', message: 'The server could not be reached.', details: {} } };
    }
    let json: any = null;
    try {
      json = await response.json();
    } catch {
      /* not JSON: described below */
    }
    if (response.ok) return { ok: true, status: response.status, data: json as T };
    const error = json?.error ?? {};
    return {
      ok: false,
      error: {
        status: response.status,
        code: typeof error.code === 'string' ? error.code : 'HTTP_' + response.status,
        message: typeof error.message === 'string' ? error.message : `Request failed (${response.status}).`,
        details: error.details && typeof error.details === 'object' ? error.details : {},
      },
    };
  }

  /** `path?name=value…` with wire names; empty values are left out. */
  query(path: string, params: Record<string, string | null | undefined>): string {
    const search = new URLSearchParams();
    for (const [camel, value] of Object.entries(params)) if (value) search.set(this.name(camel), value);
    const text = search.toString();
    return text ? `${path}?${text}` : path;
  }
}
