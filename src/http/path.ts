/**
 * One path segment with its percent-escapes decoded once, or null when they are malformed
 * (`%zz`, a truncated or invalid UTF-8 sequence).
 */
export function decodeSegment(segment: string): string | null {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * The decoded segments of a raw path (`/webhooks/wh%5F1` → `['webhooks', 'wh_1']`), or null when
 * any escape is malformed. Split before decoding, so an escaped `/` (`%2F`) stays inside its segment.
 */
export function decodePath(path: string): string[] | null {
  const segments = path.split('/');
  segments.shift();
  for (let i = 0; i < segments.length; i++) {
    const decoded = decodeSegment(segments[i] as string);
    if (decoded === null) return null;
    segments[i] = decoded;
  }
  return segments;
}

/** The first segment of a raw path, decoded; null when malformed. */
export function firstSegment(path: string): string | null {
  const end = path.indexOf('/', 1);
  return decodeSegment(end === -1 ? path.slice(1) : path.slice(1, end));
}

/** The raw query string of a request target, without the `?` (empty when there is none). */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}
