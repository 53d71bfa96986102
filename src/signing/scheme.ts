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
  /** Header name → value. Must not throw for any secret the service created. */
  sign(input: SignInput): Record<string, string>;
}
