import { isUtf8 } from 'node:buffer';
import { WebhookError } from '../errors.js';
import type { RequestBody } from './types.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024;

export function payloadTooLarge(limit: number): WebhookError {
  return new WebhookError('PAYLOAD_TOO_LARGE', `request body exceeds ${limit} bytes`);
}

/**
 * No body on the wire (HTTP/1.1: neither Transfer-Encoding nor a Content-Length other than 0),
 * the test Fastify itself applies; the Express router uses it too, so both agree.
 */
export function hasNoBody(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

/** A UTF-8 byte order mark, which a decoder drops rather than handing to JSON.parse. */
function withoutBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/**
 * The bytes as text, or null when they are not valid UTF-8, as a fatal TextDecoder decides.
 * Buffer's decoder replaces each invalid sequence with U+FFFD, so text without one came from
 * valid bytes, and only text with one (rare, and never a one-byte string) needs `isUtf8` to tell
 * a replaced sequence from an encoded U+FFFD.
 */
function decodeUtf8(bytes: Uint8Array): string | null {
  const data = withoutBom(bytes);
  // Adapters hand over Buffers; only another Uint8Array needs a Buffer view made first.
  const text = (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString('utf8');
  return text.includes('\uFFFD') && !isUtf8(data) ? null : text;
}

function header(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True for `application/json` and `application/<anything>+json`, with no charset or a UTF-8
 * one (RFC 8259 makes UTF-8 the only interoperable JSON encoding).
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  // What nearly every client sends, answered without splitting and matching.
  if (contentType === 'application/json' || contentType === 'application/json; charset=utf-8') return true;
  const [mediaType = '', ...parameters] = contentType.split(';');
  const type = mediaType.trim().toLowerCase();
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) return false;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset' && !/^"?utf-8"?$/i.test(value.trim())) return false;
  }
  return true;
}

/** Refuses (415) a body that is not `application/json` or is compressed: the API reads neither. */
export function requireJsonMediaType(headers: Readonly<Record<string, string | string[] | undefined>>): void {
  if (!isJsonContentType(header(headers, 'content-type'))) {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  }
  const encoding = header(headers, 'content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', 'compressed request bodies are not accepted');
  }
}

/**
 * Turns a request body into a JSON value: `undefined` when there is none, otherwise the parsed
 * value. A body that is present must be `application/json` (415), uncompressed (415), valid
 * UTF-8 JSON (400), and within `limit` bytes (413).
 */
export function parseJsonBody(
  body: RequestBody,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  limit: number,
): unknown {
  if (body.kind === 'empty' || (body.kind === 'bytes' && body.bytes.length === 0)) return undefined;
  requireJsonMediaType(headers);
  if (body.kind === 'parsed') return body.value;
  if (body.bytes.length > limit) throw payloadTooLarge(limit);
  const text = decodeUtf8(body.bytes);
  if (text === null) throw new WebhookError('BAD_REQUEST', 'request body is not valid UTF-8');
  try {
    return JSON.parse(text);
  } catch {
    throw new WebhookError('BAD_REQUEST', 'request body is not valid JSON');
  }
}
