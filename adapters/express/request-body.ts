import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { WebhookError } from '../../src/errors.js';
import { hasNoBody, payloadTooLarge, requireJsonMediaType } from '../../src/http/body.js';
import type { RequestBody } from '../../src/http/types.js';

const EMPTY: RequestBody = { kind: 'empty' };

/** Bytes of the value as JSON text; 0 for one a custom host parser made that JSON cannot write. */
function jsonSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}

/** body-parser's refusal as the API's: the shared JSON rules decide everything else about the bytes. */
function asWebhookError(error: { type?: unknown }, req: Request, limit: number): WebhookError {
  if (error.type === 'entity.too.large') return payloadTooLarge(limit);
  if (error.type === 'encoding.unsupported') {
    // body-parser refuses a compressed body unread; the API's own rule names which 415 it is.
    requireJsonMediaType(req.headers);
    return new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'compressed request bodies are not accepted');
  }
  return new WebhookError('BAD_REQUEST', 'request body could not be read');
}

/**
 * Reads request bodies for the router: Express's own raw body parser (every media type, never
 * decompressed, at most `limit` bytes), and the host's parser's result when one already
 * consumed the stream (`express.json()`, `express.raw()`, `express.text()`). That result is
 * held to the same rules as bytes read here: no body on the wire stays no body (a host's
 * `express.json()` makes `{}` of it), and one over `limit` is refused.
 */
export function bodyReader(limit: number): (req: Request, res: Response) => RequestBody | Promise<RequestBody> {
  const raw: RequestHandler = express.raw({ type: () => true, inflate: false, limit });
  return (req, res) => {
    if (hasNoBody(req.headers)) return EMPTY;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) throw payloadTooLarge(limit);
    const parsed: unknown = req.body;
    if (parsed !== undefined || req.readableEnded) {
      if (parsed === undefined) return EMPTY;
      if (Buffer.isBuffer(parsed)) return { kind: 'bytes', bytes: parsed };
      if (typeof parsed === 'string') return { kind: 'bytes', bytes: Buffer.from(parsed) };
      // A chunked body the host parsed declares no size: its JSON text stands in for the bytes sent.
      if (declared === undefined && jsonSize(parsed) > limit) throw payloadTooLarge(limit);
      return { kind: 'parsed', value: parsed };
    }
    return new Promise((resolve, reject) => {
      void raw(req, res, (error?: unknown) => {
        if (error) reject(asWebhookError(error as { type?: unknown }, req, limit));
        else resolve(Buffer.isBuffer(req.body) ? { kind: 'bytes', bytes: req.body } : EMPTY);
      });
    });
  };
}
