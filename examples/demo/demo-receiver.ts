import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isWebhookVerificationError, verifyWebhook } from 'hookrelay';

/** How one customer's endpoint behaves, decided per request. */
export type Behaviour = (context: { eventId: string; attemptOfEvent: number; sinceFirstRequestMs: number }) => number;

/** Answers 200, except the first attempt of every `n`th event (a flaky customer). */
export const flakyEvery = (n: number): Behaviour => {
  let events = 0;
  return ({ attemptOfEvent }) => (attemptOfEvent === 1 && ++events % n === 0 ? 500 : 200);
};

/** Answers 503 for `ms` after its first request, then 200 (an outage that ends). */
export const outageFor = (ms: number): Behaviour => ({ sinceFirstRequestMs }) => (sinceFirstRequestMs < ms ? 503 : 200);

/** Answers 500 until `recover()` is called (a customer whose endpoint is broken until they fix it). */
export function brokenUntilFixed(): Behaviour & { recover(): void } {
  let broken = true;
  const behaviour: Behaviour = () => (broken ? 500 : 200);
  return Object.assign(behaviour, {
    recover() {
      broken = false;
    },
  });
}

export interface CustomerStats {
  received: number;
  verified: number;
  rejected: number;
  /** Distinct event ids answered 2xx: what the customer actually processed. */
  processed: Set<string>;
}

/**
 * The customers' side: one loopback server, one path per customer. Every request is verified
 * with `verifyWebhook` against that customer's secret before the scripted answer is given.
 */
export class DemoReceiver {
  private readonly customers = new Map<string, { secret: string | null; behaviour: Behaviour; stats: CustomerStats; attempts: Map<string, number>; firstAt: number | null }>();
  private readonly server: Server;
  baseUrl = '';

  constructor() {
    this.server = createServer((request, response) => {
      this.handle(request)
        .then((status) => response.writeHead(status).end())
        .catch(() => response.writeHead(500).end());
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  addCustomer(name: string, behaviour: Behaviour): string {
    this.customers.set(name, { secret: null, behaviour, stats: { received: 0, verified: 0, rejected: 0, processed: new Set() }, attempts: new Map(), firstAt: null });
    return `${this.baseUrl}/${name}`;
  }

  /** The customer learns its secret from the create response, as a real one would. */
  setSecret(name: string, secret: string): void {
    const customer = this.customers.get(name);
    if (customer) customer.secret = secret;
  }

  stats(name: string): CustomerStats {
    const customer = this.customers.get(name);
    if (!customer) throw new Error(`no customer ${name}`);
    return customer.stats;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const customer = this.customers.get((request.url ?? '').slice(1));
    if (!customer || request.method !== 'POST') return 404;
    customer.stats.received++;
    if (customer.secret === null) return 503;
    let eventId: string;
    try {
      eventId = verifyWebhook({ payload: Buffer.concat(chunks), headers: request.headers, secret: customer.secret }).id;
    } catch (error) {
      if (!isWebhookVerificationError(error)) throw error;
      customer.stats.rejected++;
      return 400;
    }
    customer.stats.verified++;
    const now = Date.now();
    customer.firstAt ??= now;
    const attemptOfEvent = (customer.attempts.get(eventId) ?? 0) + 1;
    customer.attempts.set(eventId, attemptOfEvent);
    const status = customer.behaviour({ eventId, attemptOfEvent, sinceFirstRequestMs: now - customer.firstAt });
    if (status >= 200 && status < 300) customer.stats.processed.add(eventId);
    return status;
  }
}
