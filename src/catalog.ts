import { validationFailed } from './errors.js';

/** Event type names are dot-separated lowercase segments, e.g. `execution.completed`, `wallet.balance_low`. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

export interface ApiVersions {
  supported: string[];
  deprecated: string[];
  current: string;
}

/** The event types endpoints may subscribe to, and the API versions they may pin. */
export class Catalog {
  readonly eventTypes: readonly string[];
  private readonly known: ReadonlySet<string>;
  readonly apiVersions: Readonly<ApiVersions>;

  constructor(eventTypes: readonly string[], apiVersions: ApiVersions) {
    this.eventTypes = Object.freeze([...eventTypes]);
    this.known = new Set(eventTypes);
    this.apiVersions = Object.freeze({ ...apiVersions });
  }

  has(eventType: string): boolean {
    return this.known.has(eventType);
  }

  /** Throws VALIDATION_FAILED (`details.type`) unless `eventType` is in the catalog. */
  assertEventType(eventType: unknown, field = 'type'): asserts eventType is string {
    if (typeof eventType !== 'string' || !this.known.has(eventType)) {
      throw validationFailed({ [field]: 'must be a known event type' });
    }
  }

  /** Why `version` may not be pinned by a new endpoint, or null when it may. */
  apiVersionProblem(version: string): string | null {
    if (this.apiVersions.deprecated.includes(version)) return `api version ${version} is deprecated`;
    if (!this.apiVersions.supported.includes(version)) return `must be one of: ${this.apiVersions.supported.join(', ')}`;
    return null;
  }
}
