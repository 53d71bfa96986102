import type { Logger } from '../logger.js';
import type { Attempt, Delivery, Endpoint, PausedReason } from '../model.js';

/** An HTTP attempt and the delivery as it stands after it. */
export interface AttemptEvent {
  delivery: Delivery;
  attempt: Attempt;
  endpoint: Endpoint;
}

export interface FailureEvent extends AttemptEvent {
  /** When the next attempt is due; null when none is scheduled (exhausted, or held by a pause). */
  nextAttemptAt: Date | null;
}

export interface EndpointPausedEvent {
  endpoint: Endpoint;
  reason: PausedReason;
}

/** Every event the delivery engine reports, by name. */
export interface DeliveryEventMap {
  /** After every HTTP attempt that was recorded. */
  attempt: AttemptEvent;
  /** A 2xx was received. */
  success: AttemptEvent;
  /** An attempt failed (non-2xx, timeout, network error, blocked target). */
  failure: FailureEvent;
  /** The last retry failed: the delivery is `failed`. */
  exhausted: AttemptEvent;
  /** hookrelay paused an endpoint (exhausted retries, or 410 Gone). Fires once per pause. */
  endpointPaused: EndpointPausedEvent;
  /** An attempt's result could not be recorded because its lease had expired and been taken over. */
  leaseLost: { deliveryId: string; endpointId: string; attemptNumber: number };
  /** Something went wrong inside the engine (storage unreachable, a listener threw, …); delivery carries on. */
  error: { error: unknown; during: string };
}

export type DeliveryEventName = keyof DeliveryEventMap;
export type DeliveryListener<K extends DeliveryEventName> = (event: DeliveryEventMap[K]) => void | Promise<void>;

/**
 * A small typed emitter. A listener that throws or rejects never disturbs delivery: the error is
 * logged (and reported as `error`, unless it came from an `error` listener).
 */
export class DeliveryEmitter {
  private readonly listeners = new Map<DeliveryEventName, Set<DeliveryListener<never>>>();

  constructor(private readonly logger: Logger) {}

  on<K extends DeliveryEventName>(name: K, listener: DeliveryListener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as DeliveryListener<never>);
    return () => this.off(name, listener);
  }

  off<K extends DeliveryEventName>(name: K, listener: DeliveryListener<K>): void {
    this.listeners.get(name)?.delete(listener as DeliveryListener<never>);
  }

  /** True when someone listens, so callers can skip building a payload nobody reads. */
  has(name: DeliveryEventName): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends DeliveryEventName>(name: K, event: DeliveryEventMap[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        const result = (listener as DeliveryListener<K>)(event);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (err: unknown) => this.listenerFailed(name, err));
        }
      } catch (err) {
        this.listenerFailed(name, err);
      }
    }
  }

  private listenerFailed(name: DeliveryEventName, err: unknown): void {
    this.logger.error({ err, event: name }, 'hookrelay: a delivery event listener threw');
    if (name !== 'error') this.emit('error', { error: err, during: `${name} listener` });
  }
}
