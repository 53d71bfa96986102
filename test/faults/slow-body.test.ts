import { createServer as createHttpServer } from 'node:http';
import { type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BODY_DEADLINE_MS, EXCERPT_BYTES, HttpTransport } from '../../src/delivery/transport.js';
import { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';

// Issue 25: "Record an attempt when its status is known: read at most the excerpt (4 KiB), with a
// short body deadline, then settle the attempt by its status, and close the connection if the body
// is still arriving. durationMs is the time to the status line."

interface Trickler {
  url: string;
  /** Resolves when the receiver's side of the connection closed, with ms since the request arrived. */
  closedAfterMs: Promise<number>;
  close(): Promise<void>;
}

/** A raw 127.0.0.1 receiver: a status line and headers at once, then `chunk` every `everyMs`, never finishing unless the body is done. */
async function trickler(head: string, first: string, chunk: string, everyMs: number): Promise<Trickler> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed!: (ms: number) => void;
  const closedAfterMs = new Promise<number>((resolve) => (closed = resolve));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let arrived = 0;
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      if (arrived) closed(performance.now() - arrived);
    });
    socket.once('data', () => {
      arrived = performance.now();
      socket.write(`${head}\r\n\r\n${first}`);
      const timer = setInterval(() => socket.writable && socket.write(chunk), everyMs);
      timers.add(timer);
      socket.on('close', () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    closedAfterMs,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let receiver: Trickler | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await receiver?.close();
  receiver = transport = undefined;
});

const send = (t: HttpTransport, url: string) => t.send({ url, headers: { 'content-type': 'application/json' }, body: '{}' });
const newTransport = () => new HttpTransport({ timeoutMs: 15_000, connectTimeoutMs: 2000, maxResponseBytes: 64 * 1024, allowPrivateNetworks: true });

describe('a slow response body does not hold the attempt', () => {
  it('200 with content-length 1000 then one byte a second: recorded succeeded within ~1–2 s, not after the 15 s timeout', async () => {
    receiver = await trickler('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000', 'o', 'k', 1000);
    const hooks = new WebhookService({
      storage: memoryStorage(),
      eventTypes: ['execution.completed'],
      delivery: { allowHttp: true, allowPrivateNetworks: true, timeout: '15s', lease: '60s' },
    });
    try {
      const { endpoint } = await hooks.create('org_1', { url: receiver.url, events: ['execution.completed'] });
      const { deliveries } = await hooks.emit('org_1', { type: 'execution.completed', data: {} });
      const started = performance.now();
      await hooks.deliverDue();
      const elapsed = performance.now() - started;
      const d = await hooks.getDelivery('org_1', deliveries[0]!.id);
      expect(d.status).toBe('succeeded');
      expect(d.attempts[0]).toMatchObject({ statusCode: 200, errorKind: null, errorMessage: null, endpointId: endpoint.id });
      // What arrived before the deadline: at least the first byte, far fewer than the 1000 announced.
      expect(d.attempts[0]!.responseExcerpt).toMatch(/^ok*$/);
      // durationMs is the time to the status line, not to the cut.
      expect(d.attempts[0]!.durationMs).toBeLessThan(BODY_DEADLINE_MS);
      expect(elapsed).toBeGreaterThanOrEqual(BODY_DEADLINE_MS - 50);
      expect(elapsed).toBeLessThan(6000);
      // The body was still arriving: the connection was closed under it.
      expect(await receiver.closedAfterMs).toBeLessThan(6000);
    } finally {
      await hooks.stop();
    }
  });

  it('a trickling 500 settles by its status too, keeping what arrived as the excerpt', async () => {
    receiver = await trickler('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 100', 'oops', '.', 300);
    transport = newTransport();
    const started = performance.now();
    const result = await send(transport, receiver.url);
    expect(performance.now() - started).toBeLessThan(6000);
    expect(result).toMatchObject({ statusCode: 500, errorKind: 'http', errorMessage: 'HTTP 500', responseExcerpt: expect.stringMatching(/^oops\.*$/) });
  });

  it('a body past the excerpt that never ends is cut once 4 KiB are in, well before the body deadline', async () => {
    receiver = await trickler('HTTP/1.1 200 OK\r\ncontent-length: 1000000', 'x'.repeat(EXCERPT_BYTES + 10), 'x', 1000);
    transport = newTransport();
    const started = performance.now();
    const result = await send(transport, receiver.url);
    expect(performance.now() - started).toBeLessThan(BODY_DEADLINE_MS - 100);
    expect(result.statusCode).toBe(200);
    expect(result.responseExcerpt).toHaveLength(EXCERPT_BYTES);
    expect(await receiver.closedAfterMs).toBeLessThan(6000);
  });

  it('a small body that ends in time is read whole and the connection is kept for the next attempt', async () => {
    const sockets: Socket[] = [];
    const server = createHttpServer((_req, res) => res.end('ok'));
    server.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    transport = newTransport();
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
      for (let i = 0; i < 3; i++) {
        expect(await send(transport, url)).toMatchObject({ statusCode: 200, responseExcerpt: 'ok' });
        // undici returns the connection to its pool just after the response ends.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(sockets).toHaveLength(1);
    } finally {
      await transport.close();
      transport = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
