import { Agent, type Dispatcher } from 'undici';
import type { AttemptErrorKind } from '../model.js';
import { checkAddress, isIpLiteral, isLocalHostName } from '../net/address-policy.js';
import { BlockedAddressError, guardedLookup, type Resolver, systemResolver } from '../net/guarded-lookup.js';

/** At most this much of a response body is kept on the attempt. */
export const EXCERPT_BYTES = 4 * 1024;

export interface TransportOptions {
  timeoutMs: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
  allowPrivateNetworks: boolean;
  /** Replaces DNS (tests). With it, every connection goes through the guarded lookup. */
  resolver?: Resolver | undefined;
}

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What one HTTP attempt produced. Never throws: every failure is described here. */
export interface SendResult {
  statusCode: number | null;
  errorKind: AttemptErrorKind | null;
  errorMessage: string | null;
  responseExcerpt: string | null;
  /** The raw `Retry-After` header, when the answer carried one. */
  retryAfter: string | null;
  durationMs: number;
}

class TotalTimeoutError extends Error {
  override readonly name = 'TotalTimeoutError';
}

class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

interface Target {
  origin: string;
  path: string;
}

const INVALID_URL = 'the endpoint URL does not parse';
const TARGET_CACHE_SIZE = 10_000;

function elapsedSince(started: number): number {
  // Whole milliseconds: what SQL storages keep, and finer than any retry decision needs.
  return Math.round(performance.now() - started);
}

/**
 * POSTs deliveries with undici: one keep-alive pool per origin, a connect timeout and a total
 * timeout, redirects never followed, response bodies read up to a cap. Unless private networks
 * are allowed, every connection goes only to an address the SSRF guard checked.
 */
export class HttpTransport {
  private agent: Agent | null = null;
  private readonly targets = new Map<string, Target>();

  constructor(private readonly options: TransportOptions) {}

  /** Sends one POST. Resolves (never rejects) once the outcome is known. */
  send(request: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const target = this.target(request.url);
    if (target === INVALID_URL) return Promise.resolve(failure('network', target, elapsedSince(started)));
    if (typeof target === 'string') return Promise.resolve(failure('blocked', `blocked by the SSRF guard: ${target}`, elapsedSince(started)));
    return new Promise((resolve) => this.dispatch(target, request, started, resolve));
  }

  /** Closes idle and in-flight connections; the next `send` opens a fresh pool. */
  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    if (agent) await agent.close();
  }

  private dispatcher(): Agent {
    if (!this.agent) {
      const { connectTimeoutMs, timeoutMs, allowPrivateNetworks, resolver } = this.options;
      const guard = !allowPrivateNetworks || resolver !== undefined;
      this.agent = new Agent({
        connect: { timeout: connectTimeoutMs, ...(guard ? { lookup: guardedLookup(resolver ?? systemResolver, allowPrivateNetworks) } : {}) },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        keepAliveTimeout: 10_000,
        keepAliveMaxTimeout: 60_000,
      });
    }
    return this.agent;
  }

  /** net.connect skips `lookup` for IP literals, so literal hosts are checked here. */
  private refuseLiteral(hostname: string): string | null {
    if (this.options.allowPrivateNetworks) return null;
    if (isLocalHostName(hostname)) return `${hostname} always means this machine`;
    if (!isIpLiteral(hostname)) return null;
    const verdict = checkAddress(hostname.replace(/^\[|\]$/g, ''));
    return verdict.allowed ? null : `${hostname} is a ${verdict.reason}`;
  }

  /**
   * undici's dispatch API rather than `request()`: no body stream, no AbortController, no async
   * iterator per attempt, which is most of the per-request cost at thousands of deliveries a second.
   */
  private dispatch(target: Target, request: SendRequest, started: number, resolve: (result: SendResult) => void): void {
    const handler = new AttemptHandler(this.options, started, resolve, (err) => this.classify(err));
    try {
      this.dispatcher().dispatch({ origin: target.origin, path: target.path, method: 'POST', headers: request.headers, body: request.body }, handler);
    } catch (err) {
      handler.onResponseError(null, err as Error);
    }
  }

  /** The parsed URL (cached: every delivery to an endpoint has the same one), or why it cannot be sent. */
  private target(url: string): Target | string {
    let target = this.targets.get(url);
    if (target) return target;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return INVALID_URL;
    }
    const refusal = this.refuseLiteral(parsed.hostname);
    if (refusal) return refusal;
    if (this.targets.size >= TARGET_CACHE_SIZE) this.targets.clear();
    target = { origin: parsed.origin, path: parsed.pathname + parsed.search };
    this.targets.set(url, target);
    return target;
  }

  private classify(err: unknown): [AttemptErrorKind, string] {
    const e = err as { code?: string; name?: string; message?: string; cause?: unknown };
    if (err instanceof TotalTimeoutError || e.name === 'TotalTimeoutError') return ['timeout', `no complete answer within ${this.options.timeoutMs} ms`];
    if (err instanceof BlockedAddressError || e.code === 'EHOOKRELAY_BLOCKED') return ['blocked', `blocked by the SSRF guard: ${e.message}`];
    switch (e.code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return ['timeout', `connect timed out after ${this.options.connectTimeoutMs} ms`];
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return ['timeout', `no complete answer within ${this.options.timeoutMs} ms`];
      case 'ECONNREFUSED':
        return ['refused', 'connection refused'];
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
        return ['reset', 'connection reset by the receiver'];
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
      case 'EAI_NONAME':
      case 'EAI_NODATA':
        return ['dns', 'the host name did not resolve'];
      case 'ETIMEDOUT':
        return ['timeout', 'connect timed out'];
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return ['network', 'host unreachable'];
    }
    if (typeof e.code === 'string' && (e.code.startsWith('ERR_TLS') || e.code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code))) {
      return ['tls', `TLS handshake failed (${e.code})`];
    }
    if (e.cause && e.cause !== err) return this.classify(e.cause);
    return ['network', `request failed${e.code ? ` (${e.code})` : ''}`];
  }
}

/**
 * Collects one response: status, `Retry-After`, the first 4 KiB of the body, and enforces the total
 * timeout and the body cap. A class rather than closures: one allocation per attempt.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private statusCode: number | null = null;
  private retryAfter: string | null = null;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private received = 0;
  private settled = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly options: TransportOptions,
    private readonly started: number,
    private readonly resolve: (result: SendResult) => void,
    private readonly classify: (err: unknown) => [AttemptErrorKind, string],
  ) {
    this.timer = setTimeout(() => this.timeout(), options.timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new TotalTimeoutError());
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.statusCode = statusCode;
    const value = headers['retry-after'];
    this.retryAfter = typeof value === 'string' ? value : null;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.length;
    if (this.keptBytes < EXCERPT_BYTES) {
      const slice = chunk.length > EXCERPT_BYTES - this.keptBytes ? chunk.subarray(0, EXCERPT_BYTES - this.keptBytes) : chunk;
      this.kept.push(slice);
      this.keptBytes += slice.length;
    }
    // Past the cap the rest is not worth reading: answer now and drop the connection.
    if (this.received > this.options.maxResponseBytes) {
      this.answered();
      controller.abort(new ResponseTooLargeError());
    }
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    // Once the status line arrived it decides the outcome; a body cut short only shortens the excerpt.
    if (this.statusCode !== null) return this.answered();
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const [kind, message] = this.timedOut ? (['timeout', `no complete answer within ${this.options.timeoutMs} ms`] as const) : this.classify(err);
    this.resolve(failure(kind, message, elapsedSince(this.started)));
  }

  private timeout(): void {
    this.timedOut = true;
    this.controller?.abort(new TotalTimeoutError());
    this.onResponseError(null, new TotalTimeoutError());
  }

  private answered(): void {
    const status = this.statusCode;
    if (this.settled || status === null) return;
    this.settled = true;
    clearTimeout(this.timer);
    const ok = status >= 200 && status < 300;
    const kind: AttemptErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'redirect' : 'http';
    this.resolve({
      statusCode: status,
      errorKind: kind,
      errorMessage: kind === 'redirect' ? `redirect (${status}) not followed` : kind === 'http' ? `HTTP ${status}` : null,
      // A cut may split a multi-byte character: the decoder's replacement char is fine in an excerpt.
      responseExcerpt: this.keptBytes === 0 ? null : Buffer.concat(this.kept, this.keptBytes).toString('utf8'),
      retryAfter: this.retryAfter,
      durationMs: elapsedSince(this.started),
    });
  }
}

function failure(kind: AttemptErrorKind, message: string, durationMs: number): SendResult {
  return { statusCode: null, errorKind: kind, errorMessage: message, responseExcerpt: null, retryAfter: null, durationMs };
}
