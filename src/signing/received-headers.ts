import { WebhookVerificationError } from './verification-error.js';

/**
 * Request headers as receivers hold them: a fetch `Headers`, Node's `req.headers`, or any plain object
 * (names in any case; a repeated header as an array).
 */
export type ReceivedHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

type HeaderRecord = Readonly<Record<string, unknown>>;
type RawLookup = (lowercaseName: string) => unknown;

/**
 * A lookup by lowercase name over either header shape; repeated values are joined with ", " as `Headers#get` does.
 * Whatever the object holds or does when read, the lookup returns a string or undefined, or throws `WebhookVerificationError`.
 */
export function headerReader(headers: ReceivedHeaders): (lowercaseName: string) => string | undefined {
  const lookup = readingSafely('headers', () => rawLookup(headers));
  return (name) => readingSafely(`header ${name}`, () => headerText(name, lookup(name)));
}

function rawLookup(headers: unknown): RawLookup {
  if (typeof headers !== 'object' || headers === null) {
    throw new WebhookVerificationError('MISSING_HEADERS', 'headers must be a Headers object or a plain object of header values');
  }
  // Headers, or anything shaped like it (a Map, a framework's header bag).
  const get: unknown = (headers as { get?: unknown }).get;
  if (typeof get === 'function') return (name) => get.call(headers, name);
  return recordLookup(headers as HeaderRecord);
}

function recordLookup(record: HeaderRecord): RawLookup {
  let lowercased: Map<string, unknown> | undefined;
  return (name) => {
    // Node's req.headers is already lowercase, so the direct lookup is the common path.
    const value = Object.hasOwn(record, name) ? record[name] : undefined;
    if (value !== undefined) return value;
    lowercased ??= new Map(Object.keys(record).map((key) => [key.toLowerCase(), record[key]]));
    return lowercased.get(name);
  };
}

/** The one type check for every header shape: a string, a list of strings (joined), or absent. */
function headerText(name: string, value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return undefined;
  const list = stringList(value);
  if (list !== undefined) return list.length === 0 ? undefined : list.join(', ');
  throw new WebhookVerificationError('MISSING_HEADERS', `header ${name} is not a string`);
}

/** The array's items when all are strings (no holes), else undefined. Stops at the first other item: no copy of a huge sparse array. */
function stringList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (typeof item !== 'string') return undefined;
    list.push(item);
  }
  return list;
}

/** Getters and proxies can throw anything; a request must still fail only as a verification error. */
function readingSafely<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof WebhookVerificationError) throw error;
    throw new WebhookVerificationError('MISSING_HEADERS', `${what} could not be read`, { cause: error });
  }
}
