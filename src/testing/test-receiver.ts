import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { VerifyingScheme } from '../signing/scheme.js';
import { verifyWebhook } from '../signing/verify-webhook.js';
import { describeThrown } from '../errors.js';

/** One request the receiver got, recorded before it answered. */
export interface ReceivedRequest {
  method: string;
  /** Path with query string, e.g. `/hook?x=1`. */
  path: string;
  /** Lower-cased header names, as Node parses them. */
  headers: IncomingHttpHeaders;
  /** The exact body bytes. */
  rawBody: Buffer;
  /** `rawBody` as UTF-8. */
  body: string;
  /** `JSON.parse(body)`, or undefined when the body is not JSON. */
  json: unknown;
  /** Epoch milliseconds when the body had been read. */
  receivedAt: number;
  /** Whether the signature checked out (with `secret` or the `verify` hook); undefined when neither is set. */
  verified: boolean | undefined;
  /** Why verification failed (a `WebhookVerificationError` code, or the hook's error message). */
  verifyError: string | undefined;
}

/** How the receiver answers one request. */
export type ReceiverBehavior =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /** Wait `ms` before sending the status line (slow headers). */
  | { kind: 'slow'; ms: number; status?: number }
  /** Never answer, until `releaseHung()` or `close()`. */
  | { kind: 'hang' }
  /** Reset the TCP connection (the sender sees ECONNRESET). */
  | { kind: 'reset' }
  | { kind: 'redirect'; status?: 301 | 302 | 303 | 307 | 308; location: string }
  /** Answer with `bytes` bytes of body (streamed). */
  | { kind: 'huge'; bytes: number; status?: number };

export interface TestReceiverOptions {
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: '127.0.0.1' | '::1';
  /** Path of `url`. Default `/hook`. */
  path?: string;
  /** Verify each request with `verifyWebhook` against this secret (or several); see also `setSecret`. */
  secret?: string | readonly string[];
  /** The scheme for `secret`. Default `standardWebhooks()`. */
  scheme?: VerifyingScheme;
  /** Custom check instead of `secret`; the answer is stored as `verified`. */
  verify?: (request: Omit<ReceivedRequest, 'verified' | 'verifyError'>) => boolean | Promise<boolean>;
}

export interface TestReceiver {
  /** The URL to subscribe, e.g. `http://127.0.0.1:41234/hook`. */
  readonly url: string;
  readonly port: number;
  /** Every request so far, oldest first. */
  readonly requests: readonly ReceivedRequest[];
  /** Requests being handled right now (arrived, not yet answered or dropped). */
  readonly inFlight: number;
  /** The most requests in flight at once so far: checks a sender's concurrency limit. */
  readonly maxInFlight: number;
  /** Answers the next `times` requests with `behavior` (queued after earlier `respondNext` calls). */
  respondNext(behavior: ReceiverBehavior, times?: number): void;
  /** Answers the next `times` requests with `status` (default 500). */
  failNext(times: number, status?: number, options?: { headers?: Record<string, string>; body?: string }): void;
  /** Answers the next request with `status` (429 or 503) and `Retry-After: value`. */
  retryAfterNext(value: string | number, status?: 429 | 503): void;
  /** Verifies every later request against `secret` (the endpoint's, known only after it is created). */
  setSecret(secret: string | readonly string[] | undefined): void;
  /** The answer once the queue is empty. Default `{ kind: 'status', status: 200 }`. */
  setDefault(behavior: ReceiverBehavior): void;
  /** Answers every hung request with `status` (default 200). Returns how many were released. */
  releaseHung(status?: number): number;
  /** Resolves with the requests once at least `count` arrived; rejects after `timeoutMs` (default 5000). */
  waitFor(count: number, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  /** Forgets recorded requests and queued behaviors, and restarts `maxInFlight` (the default behavior stays). */
  clear(): void;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

const OK: ReceiverBehavior = { kind: 'status', status: 200 };
const HUGE_CHUNK = Buffer.alloc(64 * 1024, 'x');

/**
 * A real HTTP server on loopback for delivery tests: records every request with headers and raw
 * body, and can fail, slow down, hang, reset, redirect or flood the next requests on demand.
 */
export async function createTestReceiver(options: TestReceiverOptions = {}): Promise<TestReceiver> {
  const host = options.host ?? '127.0.0.1';
  const hookPath = options.path ?? '/hook';
  const requests: ReceivedRequest[] = [];
  const queue: ReceiverBehavior[] = [];
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  let fallback: ReceiverBehavior = OK;
  let secret = options.secret;
  let inFlight = 0;
  let maxInFlight = 0;

  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks);
    const body = rawBody.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body, json, receivedAt: Date.now() };
    let verified: boolean | undefined;
    let verifyError: string | undefined;
    try {
      if (options.verify) verified = await options.verify(base);
      else if (secret !== undefined) {
        verifyWebhook({ payload: rawBody, headers: req.headers, secret, ...(options.scheme ? { scheme: options.scheme } : {}) });
        verified = true;
      }
    } catch (err) {
      verified = false;
      // Whatever a `verify` hook throws (even `null`) is recorded, never lost with the request.
      const { code, message } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown };
      verifyError = typeof code === 'string' ? code : typeof message === 'string' ? message : describeThrown(err, 'verify threw a value that cannot be described');
    }
    requests.push({ ...base, verified, verifyError });
    notify();
    answer(res, queue.shift() ?? fallback);
  }

  function answer(res: ServerResponse, behavior: ReceiverBehavior): void {
    switch (behavior.kind) {
      case 'status':
        res.writeHead(behavior.status, { 'content-type': 'text/plain', ...behavior.headers });
        res.end(behavior.body ?? '');
        return;
      case 'slow': {
        const timer = setTimeout(() => answer(res, { kind: 'status', status: behavior.status ?? 200 }), behavior.ms);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'hang':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'reset':
        res.socket?.resetAndDestroy();
        return;
      case 'redirect':
        res.writeHead(behavior.status ?? 302, { location: behavior.location });
        res.end();
        return;
      case 'huge': {
        res.writeHead(behavior.status ?? 200, { 'content-type': 'text/plain', 'content-length': String(behavior.bytes) });
        let left = behavior.bytes;
        const pump = (): void => {
          while (left > 0) {
            const chunk = left >= HUGE_CHUNK.length ? HUGE_CHUNK : HUGE_CHUNK.subarray(0, left);
            left -= chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          res.end();
        };
        res.on('error', () => {});
        pump();
        return;
      }
    }
  }

  const server: Server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => inFlight--);
    handle(req, res).catch(() => res.socket?.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}${hookPath}`,
    port,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    respondNext(behavior, times = 1) {
      for (let i = 0; i < times; i++) queue.push(behavior);
    },
    failNext(times, status = 500, extra = {}) {
      for (let i = 0; i < times; i++) queue.push({ kind: 'status', status, ...extra });
    },
    retryAfterNext(value, status = 503) {
      queue.push({ kind: 'status', status, headers: { 'retry-after': String(value) } });
    },
    setSecret(value) {
      secret = value;
    },
    setDefault(behavior) {
      fallback = behavior;
    },
    releaseHung(status = 200) {
      const count = hung.size;
      for (const res of [...hung]) {
        hung.delete(res);
        answer(res, { kind: 'status', status });
      }
      return count;
    },
    waitFor(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`test receiver: expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    clear() {
      requests.length = 0;
      queue.length = 0;
      maxInFlight = inFlight;
    },
    async close() {
      for (const res of hung) res.destroy();
      hung.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
