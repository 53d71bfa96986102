/** What a scheme needs to sign one attempt. */
export interface SignInput {
  /** The endpoint being delivered to (`wh_…`). */
  endpointId: string;
  /** The event being delivered (`evt_…`); stable across retries, receivers dedupe on it. */
  eventId: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact bytes sent as the request body. */
  body: string;
  /** The endpoint's secrets still valid for signing, newest first (never empty). */
  secrets: readonly string[];
}

/** A signature scheme: turns one attempt into the headers that let a receiver verify it. */
export interface SigningScheme {
  /** Stable name, e.g. `standard-webhooks`, `hmac-sha256-hex`. */
  readonly name: string;
  /** Header name → value. Must not throw for any secret the service created; if it does, nothing is sent and the attempt is recorded as failed (`errorKind: 'internal'`) and retried on the schedule. */
  sign(input: SignInput): Record<string, string>;
}

/** One received request as a scheme sees it when verifying. */
export interface VerifyInput {
  /** The raw request body, exactly as received. */
  payload: string | Uint8Array;
  /** Reads a header by its lowercase name; undefined when absent. */
  header(lowercaseName: string): string | undefined;
  /** Secrets to accept, any one of which may have signed the request (rotation). Never empty. */
  secrets: readonly string[];
  /** How far the timestamp header may be from `nowSeconds`, either way. */
  toleranceSeconds: number;
  /** The receiver's current time, unix seconds. */
  nowSeconds: number;
}

/** A scheme that can also check its own headers on the receiving side (what `verifyWebhook` takes). */
export interface VerifyingScheme extends SigningScheme {
  /**
   * Returns when the headers carry a fresh timestamp and a signature made by one of the secrets;
   * otherwise throws `WebhookVerificationError`, and nothing else, whatever the headers hold.
   */
  verify(input: VerifyInput): void;
}
