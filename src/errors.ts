/**
 * Every error hookrelay raises on purpose carries a stable `code` from this registry.
 * The HTTP layer maps the code to its status here and nowhere else.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 422,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  STORAGE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type WebhookErrorCode = keyof typeof ERROR_STATUS;

/** Field name → human-readable reason, as the seed's `details` object shows. */
export type ErrorDetails = Record<string, string>;

export interface WebhookErrorOptions {
  details?: ErrorDetails;
  cause?: unknown;
}

export class WebhookError extends Error {
  override readonly name: string = 'WebhookError';
  readonly code: WebhookErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;

  constructor(code: WebhookErrorCode, message: string, options: WebhookErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
  }

  toJSON(): { code: WebhookErrorCode; message: string; details?: ErrorDetails } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

export function validationFailed(details: ErrorDetails, message = 'validation failed'): WebhookError {
  return new WebhookError('VALIDATION_FAILED', message, { details });
}

export function notFound(what: string): WebhookError {
  return new WebhookError('NOT_FOUND', `${what} not found`);
}

export function limitExceeded(message: string): WebhookError {
  return new WebhookError('LIMIT_EXCEEDED', message);
}

export function isWebhookError(value: unknown): value is WebhookError {
  return value instanceof WebhookError;
}

/**
 * A thrown value as text: an Error's message, anything else through `String`. Code may throw
 * anything (`null`, a string, an object without a usable `toString`, on which `String` itself
 * throws): this never throws, answering `fallback` for a value that cannot be described.
 */
export function describeThrown(thrown: unknown, fallback = 'a value that cannot be described'): string {
  try {
    return thrown instanceof Error ? thrown.message : String(thrown);
  } catch {
    return fallback;
  }
}

/**
 * A wrong option or argument given by the host's code (service options, a signing scheme's
 * options, `verifyWebhook`'s arguments); the message names each option and its problem.
 */
export class InvalidOptionsError extends TypeError {
  override readonly name = 'InvalidOptionsError';
  readonly issues: { option: string; message: string }[];
  constructor(issues: { option: string; message: string }[]) {
    super(`invalid hookrelay options: ${issues.map((i) => `${i.option} ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}
