import { WebhookVerificationError } from './verification-error.js';

/**
 * Request headers as receivers hold them: a fetch `Headers`, Node's `req.headers`, or any plain object
 * (names in any case; a repeated header as an array).
 */
export type ReceivedHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

type HeaderRecord = Readonly<Record<string, unknown>>;

/** A lookup by lowercase name over either header shape; repeated values are joined with ", " as `Headers#get` does. */
export function headerReader(headers: ReceivedHeaders): (lowercaseName: string) => string | undefined {
  if (typeof headers !== 'object' || headers === null) {
    throw new WebhookVerificationError('MISSING_HEADERS', 'headers must be a Headers object or a plain object of header values');
  }
  if (typeof (headers as Headers).get === 'function') {
    const fetchHeaders = headers as Headers;
    return (name) => fetchHeaders.get(name) ?? undefined;
  }
  const record = headers as HeaderRecord;
  let lowercased: Map<string, unknown> | undefined;
  return (name) => {
    // Node's req.headers is already lowercase, so the direct lookup is the common path.
    let value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (value === undefined) {
      lowercased ??= new Map(Object.keys(record).map((key) => [key.toLowerCase(), record[key]]));
      value = lowercased.get(name);
    }
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length === 0 ? undefined : value.join(', ');
    if (value === undefined || value === null) return undefined;
    throw new WebhookVerificationError('MISSING_HEADERS', `header ${name} is not a string`);
  };
}
