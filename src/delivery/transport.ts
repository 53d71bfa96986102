import { Agent, type Dispatcher } from 'undici';
import type { AttemptErrorKind } from '../model.js';
import { checkAddress, isIpLiteral, isLocalHostName } from '../net/address-policy.js';
import { BlockedAddressError, LOCAL_NAME, guardedLookup, type Resolver, systemResolver } from '../net/guarded-lookup.js';

/** At most this much of a response body is read, and kept on the attempt. */
export const EXCERPT_BYTES = 4 * 1024;

/**
 * How long the body may take once the status line is in. The status decides the outcome; the
 * body only fills the excerpt, so a receiver trickling it must not hold the attempt (and a
 * scheduler slot) until the total timeout.
 */
export const BODY_DEADLINE_MS = 1000;

/** What a tenant reads when the URL's host is an IP literal the guard refuses. */
const NON_PUBLIC_LITERAL = 'the host is a non-public address';

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
  /** Until the status line when there was one (a slow body does not count), else until the failure. */
  durationMs: number;
  /**
   * Which address the SSRF guard refused and why, for the host's log only: `errorMessage` is what
   * tenants read and never names an address. Set only when `errorKind` is `blocked`.
   */
  blockedDetail?: string;
}

/** Why an attempt got no usable answer: `message` for the tenant, `detail` for the host's log. */
interface FailureCause {
  kind: AttemptErrorKind;
  message: string;
  detail?: string;
}

class TotalTimeoutError extends Error {
  override readonly name = 'TotalTimeoutError';
}

/** Aborts a body that is no longer read (excerpt full, cap passed or body deadline over). */
class BodyCutError extends Error {
  override readonly name = 'BodyCutError';
}

interface Target {
  origin: string;
  path: string;
}

const INVALID_URL: FailureCause = { kind: 'network', message: 'the endpoint URL does not parse' };
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
    if (!('origin' in target)) return Promise.resolve(failure(target, elapsedSince(started)));
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
  private refuseLiteral(hostname: string): FailureCause | null {
    if (this.options.allowPrivateNetworks) return null;
    if (isLocalHostName(hostname)) return blocked(new BlockedAddressError(LOCAL_NAME, `${hostname} always means this machine`));
    if (!isIpLiteral(hostname)) return null;
    const verdict = checkAddress(hostname.replace(/^\[|\]$/g, ''));
    return verdict.allowed ? null : blocked(new BlockedAddressError(NON_PUBLIC_LITERAL, `${hostname} is a ${verdict.reason}`));
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
  private target(url: string): Target | FailureCause {
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

  /** Error messages are fixed texts per kind, never the thrown message: those can name addresses. */
  private classify(err: unknown): FailureCause {
    const e = err as { code?: string; name?: string; message?: string; cause?: unknown };
    if (err instanceof TotalTimeoutError || e.name === 'TotalTimeoutError') return this.totalTimeout();
    // By code too: a wrapper may carry the guard's error without being its class.
    if (err instanceof BlockedAddressError || e.code === 'EHOOKRELAY_BLOCKED') return blocked(err as BlockedAddressError);
    switch (e.code) {
      case 'UND_ERR_CONNECT_TIMEOUT':
        return { kind: 'timeout', message: `connect timed out after ${this.options.connectTimeoutMs} ms` };
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return this.totalTimeout();
      case 'ECONNREFUSED':
        return { kind: 'refused', message: 'connection refused' };
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
        return { kind: 'reset', message: 'connection reset by the receiver' };
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_FAIL':
      case 'EAI_NONAME':
      case 'EAI_NODATA':
        return { kind: 'dns', message: 'the host name did not resolve' };
      case 'ETIMEDOUT':
        return { kind: 'timeout', message: 'connect timed out' };
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return { kind: 'network', message: 'host unreachable' };
    }
    if (typeof e.code === 'string' && (e.code.startsWith('ERR_TLS') || e.code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code))) {
      return { kind: 'tls', message: `TLS handshake failed (${e.code})` };
    }
    if (e.cause && e.cause !== err) return this.classify(e.cause);
    return { kind: 'network', message: `request failed${e.code ? ` (${e.code})` : ''}` };
  }

  private totalTimeout(): FailureCause {
    return { kind: 'timeout', message: `no complete answer within ${this.options.timeoutMs} ms` };
  }
}

/**
 * Collects one response: the status and `Retry-After`, then at most the 4 KiB excerpt of the body
 * within BODY_DEADLINE_MS, and enforces the total timeout. The attempt settles as soon as the
 * body ends, the excerpt is full, the response cap is passed or the body deadline fires; a body
 * still arriving then is cut off (the connection is closed). A class rather than closures: one
 * allocation per attempt.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private statusCode: number | null = null;
  private retryAfter: string | null = null;
  private statusAfterMs = 0;
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private settled = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private bodyTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: TransportOptions,
    private readonly started: number,
    private readonly resolve: (result: SendResult) => void,
    private readonly classify: (err: unknown) => FailureCause,
  ) {
    this.timer = setTimeout(() => this.timeout(), options.timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new TotalTimeoutError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: the real answer follows
    this.statusCode = statusCode;
    this.statusAfterMs = elapsedSince(this.started);
    const value = headers['retry-after'];
    this.retryAfter = typeof value === 'string' ? value : null;
    this.bodyTimer = setTimeout(() => this.cutBody(controller), BODY_DEADLINE_MS);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const room = Math.min(EXCERPT_BYTES, this.options.maxResponseBytes) - this.keptBytes;
    if (room > 0) {
      const slice = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.kept.push(slice);
      this.keptBytes += slice.length;
    }
    // More than the excerpt (or the cap) is not worth reading: settle now and drop the connection.
    if (chunk.length > room) this.cutBody(controller);
  }

  onResponseEnd(): void {
    this.answered();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    // Once the status line arrived it decides the outcome; a body cut short only shortens the excerpt.
    if (this.statusCode !== null) return this.answered();
    if (this.settled) return;
    this.settle();
    const cause = this.timedOut ? this.classify(new TotalTimeoutError()) : this.classify(err);
    this.resolve(failure(cause, elapsedSince(this.started)));
  }

  private timeout(): void {
    this.timedOut = true;
    this.controller?.abort(new TotalTimeoutError());
    this.onResponseError(null, new TotalTimeoutError());
  }

  /** Settles by the status with the excerpt read so far, and closes the connection under the rest. */
  private cutBody(controller: Dispatcher.DispatchController): void {
    this.answered();
    controller.abort(new BodyCutError());
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    if (this.bodyTimer) clearTimeout(this.bodyTimer);
  }

  private answered(): void {
    const status = this.statusCode;
    if (this.settled || status === null) return;
    this.settle();
    const ok = status >= 200 && status < 300;
    const kind: AttemptErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'redirect' : 'http';
    this.resolve({
      statusCode: status,
      errorKind: kind,
      errorMessage: kind === 'redirect' ? `redirect (${status}) not followed` : kind === 'http' ? `HTTP ${status}` : null,
      // A cut may split a multi-byte character: the decoder's replacement char is fine in an excerpt.
      responseExcerpt: this.keptBytes === 0 ? null : Buffer.concat(this.kept, this.keptBytes).toString('utf8'),
      retryAfter: this.retryAfter,
      durationMs: this.statusAfterMs,
    });
  }
}

function blocked(err: BlockedAddressError): FailureCause {
  const detail = typeof err.detail === 'string' ? err.detail : 'no detail';
  return { kind: 'blocked', message: `blocked by the SSRF guard: ${err.message}`, detail };
}

function failure(cause: FailureCause, durationMs: number): SendResult {
  const result: SendResult = { statusCode: null, errorKind: cause.kind, errorMessage: cause.message, responseExcerpt: null, retryAfter: null, durationMs };
  if (cause.detail !== undefined) result.blockedDetail = cause.detail;
  return result;
}
