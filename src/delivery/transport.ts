import { Agent } from 'undici';
import type { AttemptErrorKind } from '../model.js';
import { checkAddress, isIpLiteral, isLocalHostName } from './address-policy.js';
import { BlockedAddressError, guardedLookup, type Resolver, systemResolver } from './guarded-lookup.js';

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

/**
 * POSTs deliveries with undici: one keep-alive pool per origin, a connect timeout and a total
 * timeout, redirects never followed, response bodies read up to a cap. Unless private networks
 * are allowed, every connection goes only to an address the SSRF guard checked.
 */
export class HttpTransport {
  private agent: Agent | null = null;

  constructor(private readonly options: TransportOptions) {}

  async send(request: SendRequest): Promise<SendResult> {
    const started = performance.now();
    // Whole milliseconds: what SQL storages keep, and finer than any retry decision needs.
    const elapsed = (): number => Math.round(performance.now() - started);
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return failure('network', 'the endpoint URL does not parse', elapsed());
    }
    const refusal = this.refuseLiteral(url.hostname);
    if (refusal) return failure('blocked', refusal, elapsed());

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TotalTimeoutError()), this.options.timeoutMs);
    try {
      const response = await this.dispatcher().request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
      });
      const excerpt = await this.readExcerpt(response.body);
      const status = response.statusCode;
      const retryAfter = response.headers['retry-after'];
      const ok = status >= 200 && status < 300;
      const kind: AttemptErrorKind | null = ok ? null : status >= 300 && status < 400 ? 'redirect' : 'http';
      return {
        statusCode: status,
        errorKind: kind,
        errorMessage: kind === 'redirect' ? `redirect (${status}) not followed` : kind === 'http' ? `HTTP ${status}` : null,
        responseExcerpt: excerpt,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
        durationMs: elapsed(),
      };
    } catch (err) {
      const [kind, message] = this.classify(err);
      return failure(kind, message, elapsed());
    } finally {
      clearTimeout(timer);
    }
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

  /** Reads the body up to `maxResponseBytes` (so the connection can be reused) and keeps the first 4 KiB. */
  private async readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let total = 0;
    try {
      for await (const chunk of body) {
        total += chunk.length;
        if (keptBytes < EXCERPT_BYTES) {
          const slice = chunk.length > EXCERPT_BYTES - keptBytes ? chunk.subarray(0, EXCERPT_BYTES - keptBytes) : chunk;
          kept.push(slice);
          keptBytes += slice.length;
        }
        if (total > this.options.maxResponseBytes) {
          body.destroy();
          break;
        }
      }
    } catch {
      // The status line already arrived and decides the outcome; a body cut short only shortens the excerpt.
    }
    if (keptBytes === 0) return null;
    // A cut may split a multi-byte character: the decoder's replacement char is fine in an excerpt.
    return Buffer.concat(kept, keptBytes).toString('utf8');
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

function failure(kind: AttemptErrorKind, message: string, durationMs: number): SendResult {
  return { statusCode: null, errorKind: kind, errorMessage: message, responseExcerpt: null, retryAfter: null, durationMs };
}
