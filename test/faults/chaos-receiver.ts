import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the chaos receiver did with one request. */
export type ChaosAnswer = 'ok' | 'error500' | 'retryAfter429' | 'hang' | 'reset' | 'slow';

/** Relative weights of each answer; they need not add up to anything. */
export type ChaosMix = Record<ChaosAnswer, number>;

/** A mix where about 4 in 10 attempts fail in one of the ways receivers fail in production. */
export const DEFAULT_CHAOS_MIX: ChaosMix = { ok: 52, slow: 8, error500: 15, retryAfter429: 10, hang: 5, reset: 10 };

export interface ChaosReceiverOptions {
  mix?: ChaosMix;
  /** Seed of the answer sequence, so a failing run can be replayed. */
  seed: number;
  /** How long a `slow` answer waits before its 200. */
  slowMs: number;
  /** The `Retry-After` value sent with a 429. */
  retryAfter: string;
  /** Keep every request in `requests` (default true); a long soak only needs `counts`. */
  keepLog?: boolean;
}

export interface ChaosRequest {
  /** `webhook-id` (the event id) and path together: one endpoint's delivery of one event. */
  key: string;
  answer: ChaosAnswer;
  at: number;
}

export interface ChaosReceiver {
  /** `http://127.0.0.1:<port>`; subscribe `${origin}/e/<n>` to tell endpoints apart. */
  readonly origin: string;
  /** Every request, in arrival order, recorded as soon as its headers arrived. */
  readonly requests: readonly ChaosRequest[];
  /** Requests answered so far, by answer. */
  readonly counts: Readonly<Record<ChaosAnswer, number>>;
  /** Requests per key. */
  byKey(): Map<string, ChaosRequest[]>;
  close(): Promise<void>;
}

const ANSWERS: readonly ChaosAnswer[] = ['ok', 'slow', 'error500', 'retryAfter429', 'hang', 'reset'];

/** mulberry32: a tiny seeded PRNG, enough to make the answer sequence reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A loopback receiver that answers each request at random: 200, a slow 200, 500, 429 with
 * `Retry-After`, never (until the sender gives up), or a TCP reset. It records each request
 * before answering, so its log can be compared with the attempts the sender recorded.
 */
export async function createChaosReceiver(options: ChaosReceiverOptions): Promise<ChaosReceiver> {
  const mix = options.mix ?? DEFAULT_CHAOS_MIX;
  const total = ANSWERS.reduce((sum, a) => sum + mix[a], 0);
  const random = seededRandom(options.seed);
  const requests: ChaosRequest[] = [];
  const counts: Record<ChaosAnswer, number> = { ok: 0, slow: 0, error500: 0, retryAfter429: 0, hang: 0, reset: 0 };
  const sockets = new Set<Socket>();

  const pick = (): ChaosAnswer => {
    let roll = random() * total;
    for (const answer of ANSWERS) {
      roll -= mix[answer];
      if (roll < 0) return answer;
    }
    return 'ok';
  };

  const answer = (res: ServerResponse, kind: ChaosAnswer): void => {
    switch (kind) {
      case 'ok':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      case 'slow': {
        const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok, slowly'), options.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'error500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        return;
      case 'retryAfter429':
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': options.retryAfter }).end('slow down');
        return;
      case 'hang':
        // The sender's timeout ends it; close() drops whatever is still open.
        return;
      case 'reset':
        res.socket?.resetAndDestroy();
        return;
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const id = req.headers['webhook-id'];
    const kind = pick();
    if (options.keepLog !== false) requests.push({ key: `${typeof id === 'string' ? id : '?'} ${req.url ?? ''}`, answer: kind, at: Date.now() });
    counts[kind]++;
    req.resume();
    req.on('end', () => answer(res, kind));
    req.on('error', () => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    counts,
    byKey() {
      const map = new Map<string, ChaosRequest[]>();
      for (const r of requests) {
        const list = map.get(r.key);
        if (list) list.push(r);
        else map.set(r.key, [r]);
      }
      return map;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
