import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type VerifiedWebhookEvent, type VerifyingScheme, isWebhookVerificationError, verifyWebhook } from 'hookrelay';

export interface ReceiverOptions {
  /** The endpoint's secret, as hookrelay returned it once at create (or rotate) time. */
  secret: string;
  /** The sender's scheme; omitted means Standard Webhooks, hookrelay's default. */
  scheme?: VerifyingScheme;
  /**
   * Called once per event id: retries of an event already handled are acknowledged, not handled
   * again. A throw answers 500, so hookrelay retries and the next attempt calls it again.
   */
  onEvent(event: VerifiedWebhookEvent): void | Promise<void>;
  /** Called for every request that fails verification (the answer is 400 either way). */
  onRejected?(reason: { code: string; message: string }): void;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** Remembered event ids; hookrelay's retries of one event reuse its id, so this is all dedup needs. */
const OUTCOMES_CAPACITY = 10_000;

/**
 * A receiver as a customer would write it: read the raw body (verification needs the exact bytes,
 * not re-serialized JSON), verify, dedupe on the event id, answer 2xx fast.
 */
export function createReceiver(options: ReceiverOptions): Server {
  // Event id → the outcome of its handler, pending while it runs. A failure is forgotten, so the
  // retry hookrelay sends after the 500 runs the handler again.
  const outcomes = new Map<string, Promise<void>>();
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const payload = await readBody(request);
    if (payload === null) {
      response.writeHead(413, { connection: 'close' }).end();
      return;
    }
    let event: VerifiedWebhookEvent;
    try {
      event = verifyWebhook({ payload, headers: request.headers, secret: options.secret, ...(options.scheme ? { scheme: options.scheme } : {}) });
    } catch (error) {
      if (!isWebhookVerificationError(error)) throw error;
      options.onRejected?.({ code: error.code, message: error.message });
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.code }));
      return;
    }
    let outcome = outcomes.get(event.id);
    if (!outcome) {
      outcome = (async () => options.onEvent(event))();
      outcomes.set(event.id, outcome);
      if (outcomes.size > OUTCOMES_CAPACITY) outcomes.delete(outcomes.keys().next().value as string);
      outcome.catch(() => outcomes.delete(event.id));
    }
    // A retry racing a slow first attempt waits for that attempt's outcome instead of answering 2xx
    // at once: hookrelay stops at the first 2xx, so acknowledging an event before it was handled
    // successfully would lose it if the handler then threw.
    try {
      await outcome;
    } catch {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(204).end();
  };
  // An aborted upload or a bug answers 500 (or drops the connection) instead of crashing the process.
  return createServer((request, response) => {
    handle(request, response).catch(() => (response.headersSent ? response.destroy() : response.writeHead(500).end()));
  });
}

/** The raw body bytes, or null when they exceed the cap. */
async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
