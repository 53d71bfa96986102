import type { Request } from 'express';
import { WebhookError } from '../../src/errors.js';
import { payloadTooLarge } from '../../src/http/body.js';
import type { RequestBody } from '../../src/http/types.js';

/**
 * The request body, whoever read it. When a host parser (`express.json()`, `express.raw()`,
 * `express.text()`) already consumed the stream, its result is used as is; otherwise the raw
 * bytes are read here, refusing more than `limit` bytes without buffering them.
 */
export function readExpressBody(req: Request, limit: number): Promise<RequestBody> {
  const parsed: unknown = req.body;
  if (parsed !== undefined || req.readableEnded) {
    if (parsed === undefined) return Promise.resolve({ kind: 'empty' });
    if (Buffer.isBuffer(parsed)) return Promise.resolve({ kind: 'bytes', bytes: parsed });
    if (typeof parsed === 'string') return Promise.resolve({ kind: 'bytes', bytes: Buffer.from(parsed) });
    return Promise.resolve({ kind: 'parsed', value: parsed });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(payloadTooLarge(limit));

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
