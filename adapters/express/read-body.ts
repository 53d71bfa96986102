import type { Request } from 'express';
import { WebhookError } from '../../src/errors.js';
import { hasNoBody, payloadTooLarge } from '../../src/http/body.js';
import type { RequestBody } from '../../src/http/types.js';

/** Bytes of the value as JSON text; 0 for one a custom host parser made that JSON cannot write. */
function jsonSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}

/**
 * The request body, whoever read it. When a host parser (`express.json()`, `express.raw()`,
 * `express.text()`) already consumed the stream, its result is used, held to the same rules as
 * bytes read here: no body stays no body (a host's `express.json()` makes `{}` of it), and one over
 * `limit` is refused. Otherwise the raw bytes are read here, refusing more than `limit` bytes
 * without buffering them.
 */
export function readExpressBody(req: Request, limit: number): Promise<RequestBody> {
  if (hasNoBody(req.headers)) return Promise.resolve({ kind: 'empty' });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(payloadTooLarge(limit));
  const parsed: unknown = req.body;
  if (parsed !== undefined || req.readableEnded) {
    if (parsed === undefined) return Promise.resolve({ kind: 'empty' });
    if (Buffer.isBuffer(parsed)) return Promise.resolve({ kind: 'bytes', bytes: parsed });
    if (typeof parsed === 'string') return Promise.resolve({ kind: 'bytes', bytes: Buffer.from(parsed) });
    // A chunked body the host parsed declares no size: its JSON text stands in for the bytes sent.
    if (declared === undefined && jsonSize(parsed) > limit) return Promise.reject(payloadTooLarge(limit));
    return Promise.resolve({ kind: 'parsed', value: parsed });
  }

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the 413 answer closes the connection, discarding the rest.
        req.pause();
        reject(payloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ kind: 'bytes', bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    };
    const onError = (): void => {
      cleanup();
      reject(new WebhookError('BAD_REQUEST', 'request body could not be read'));
    };
    const onAborted = onError;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
