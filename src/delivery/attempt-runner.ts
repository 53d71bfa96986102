import type { Clock } from '../clock.js';
import { toPublicEndpoint } from '../endpoints.js';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { Attempt, Delivery, EndpointRecord } from '../model.js';
import type { EndpointPausedInfo } from '../options.js';
import { activeSigningSecrets } from '../signing/active-secrets.js';
import type { SigningScheme } from '../signing/scheme.js';
import type { ClaimedDelivery, NextDeliveryState, Storage } from '../storage/storage.js';
import type { DeliveryEmitter } from './delivery-events.js';
import { serializeEvent } from './payload.js';
import { decideNext, type RetryConfig } from './retry-policy.js';
import { isFinished, verdictOf } from './transitions.js';
import type { HttpTransport, SendResult } from './transport.js';
import { USER_AGENT } from './user-agent.js';
import { describeThrown } from '../errors.js';

export interface AttemptRunnerDeps {
  storage: Storage;
  transport: HttpTransport;
  clock: Clock;
  signing: readonly SigningScheme[];
  retry: RetryConfig;
  logger: Logger;
  events: DeliveryEmitter;
  onEndpointPaused: ((info: EndpointPausedInfo) => void | Promise<void>) | undefined;
}

/** What the scheduler needs to know after one claimed delivery was handled. */
export interface RunOutcome {
  /** The endpoint is paused or deleted now: deliveries of it still queued locally must not be sent. */
  stopEndpoint: 'held' | 'cancelled' | null;
  /** When a retry was scheduled, its due time (clock ms): an idle loop must wake for it. */
  retryAt: number | null;
  /**
   * The host's `onEndpointPaused`, still running. It must not hold a delivery slot (a slow mail
   * server would stall every endpoint), but `stop()` and `deliverDue()` wait for it.
   */
  followUp?: Promise<void> | null;
}

const CONTINUE: RunOutcome = { stopEndpoint: null, retryAt: null };

/**
 * Sends one claimed delivery and records the attempt with its next state in one lease-guarded
 * step; pauses the endpoint when the policy says so and tells the host exactly once.
 */
export class AttemptRunner {
  constructor(private readonly deps: AttemptRunnerDeps) {}

  async run(claimed: ClaimedDelivery): Promise<RunOutcome> {
    const { storage, clock, logger } = this.deps;
    const { delivery, endpoint, leaseToken } = claimed;

    // The endpoint changed since this delivery was written: record that without an HTTP attempt.
    const verdict = verdictOf(endpoint);
    if (verdict !== 'pending') {
      await storage.completeAttempt({ deliveryId: delivery.id, leaseToken, attempt: null, next: { status: verdict }, now: new Date(clock.now()) });
      return { stopEndpoint: verdict, retryAt: null };
    }

    const startedAt = clock.now();
    const result = await this.send(claimed, startedAt);
    const finishedAt = clock.now();
    const attemptNumber = delivery.attemptCount + 1;
    // A manual retry or replay restarts the schedule: count only the attempts since then.
    const decision = decideNext(attemptNumber - delivery.requeuedAtAttempt, result, finishedAt, this.deps.retry);
    const attempt: Attempt = {
      id: newId('attempt', startedAt),
      deliveryId: delivery.id,
      orgId: delivery.orgId,
      endpointId: delivery.endpointId,
      attemptNumber,
      startedAt: new Date(startedAt),
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      errorKind: result.errorKind,
      errorMessage: result.errorMessage,
      responseExcerpt: result.responseExcerpt,
    };
    const now = new Date(finishedAt);
    const request = { deliveryId: delivery.id, leaseToken, attempt, next: decision.next, now };
    let recorded: boolean;
    // Exhaustion and 410 pause the endpoint: in the same atomic step as the attempt where the
    // storage can, so a crash between the two cannot leave the attempt recorded but no pause.
    let pausedAtomically: EndpointRecord | null | undefined;
    if (decision.pause && storage.completeAttemptAndPause) {
      const outcome = await storage.completeAttemptAndPause(request, { endpointId: endpoint.id, reason: decision.pause });
      recorded = outcome.recorded;
      pausedAtomically = outcome.paused;
    } else {
      recorded = await storage.completeAttempt(request);
    }
    if (!recorded) {
      // Another worker took the delivery over after our lease expired; its record wins.
      logger.warn({ deliveryId: delivery.id, endpointId: endpoint.id, attemptNumber }, 'hookrelay: lease lost, attempt result discarded');
      this.deps.events.emit('leaseLost', { deliveryId: delivery.id, endpointId: endpoint.id, attemptNumber });
      return CONTINUE;
    }
    this.report(delivery, endpoint, attempt, decision.next, now);
    if (decision.pause) {
      const paused = pausedAtomically === undefined ? await this.deps.storage.pauseEndpoint(endpoint.id, decision.pause, now) : pausedAtomically;
      // null: someone else paused it first (another attempt, another process, the owner); they report it.
      const followUp = paused ? this.notifyPaused(paused, decision.pause) : null;
      return { stopEndpoint: 'held', retryAt: null, followUp };
    }
    return decision.next.status === 'pending' ? { stopEndpoint: null, retryAt: decision.next.nextAttemptAt.getTime() } : CONTINUE;
  }

  /**
   * Builds, signs and sends the request. A failure to build it (a custom signing scheme that
   * throws, say) counts as a failed attempt like any other: recorded, retried on the schedule,
   * and paused at the end, instead of escaping and leaving the delivery leased with its retry
   * counter stuck, to be sent again when the lease runs out, over and over.
   */
  private async send(claimed: ClaimedDelivery, startedAt: number): Promise<SendResult> {
    let body: string;
    let headers: Record<string, string>;
    try {
      body = serializeEvent(claimed.event);
      headers = this.headers(claimed, body, startedAt);
    } catch (error) {
      this.deps.logger.error({ deliveryId: claimed.delivery.id, endpointId: claimed.endpoint.id, err: error }, 'hookrelay: could not build the delivery request');
      const reason = describeThrown(error);
      return { statusCode: null, errorKind: 'internal', errorMessage: `could not build the request: ${reason}`.slice(0, 500), responseExcerpt: null, retryAfter: null, durationMs: 0 };
    }
    const result = await this.deps.transport.send({ url: claimed.endpoint.url, headers, body });
    // The refused address goes to the host's log only: the attempt's errorMessage is served to tenants.
    if (result.blockedDetail !== undefined) {
      this.deps.logger.warn({ deliveryId: claimed.delivery.id, endpointId: claimed.endpoint.id, blocked: result.blockedDetail }, 'hookrelay: delivery blocked by the SSRF guard');
    }
    return result;
  }

  private headers(claimed: ClaimedDelivery, body: string, startedAt: number): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
    const secrets = activeSigningSecrets(claimed.endpoint.secrets, startedAt);
    const input = { endpointId: claimed.endpoint.id, eventId: claimed.event.id, timestamp: Math.floor(startedAt / 1000), body, secrets };
    for (const scheme of this.deps.signing) Object.assign(headers, scheme.sign(input));
    return headers;
  }

  private report(before: Delivery, endpoint: EndpointRecord, attempt: Attempt, next: NextDeliveryState, now: Date): void {
    const { events, logger } = this.deps;
    const succeeded = next.status === 'succeeded';
    const log = { deliveryId: before.id, eventId: before.eventId, endpointId: endpoint.id, attemptNumber: attempt.attemptNumber, statusCode: attempt.statusCode, errorKind: attempt.errorKind, durationMs: attempt.durationMs };
    if (succeeded) logger.debug(log, 'hookrelay: delivered');
    else logger.warn({ ...log, next: next.status, errorMessage: attempt.errorMessage }, 'hookrelay: delivery attempt failed');
    if (!events.has('attempt') && !events.has('success') && !events.has('failure') && !events.has('exhausted')) return;

    const finished = isFinished(next.status);
    const nextAttemptAt = next.status === 'pending' ? next.nextAttemptAt : null;
    const delivery: Delivery = {
      ...before,
      status: next.status,
      attemptCount: attempt.attemptNumber,
      nextAttemptAt,
      lastAttemptAt: attempt.startedAt,
      lastStatusCode: attempt.statusCode,
      lastError: attempt.errorKind,
      updatedAt: now,
      completedAt: finished ? now : null,
    };
    const event = { delivery, attempt, endpoint: toPublicEndpoint(endpoint) };
    events.emit('attempt', event);
    if (succeeded) events.emit('success', event);
    else {
      events.emit('failure', { ...event, nextAttemptAt });
      if (next.status === 'failed') events.emit('exhausted', event);
    }
  }

  /**
   * Logs and emits `endpointPaused` now, once per pause this process made; returns the host's
   * `onEndpointPaused` call, left running (see RunOutcome.followUp).
   */
  private notifyPaused(paused: EndpointRecord, reason: 'failing' | 'gone' | 'manual'): Promise<void> | null {
    const { logger, events, onEndpointPaused } = this.deps;
    const info = { endpoint: toPublicEndpoint(paused), reason };
    logger.warn({ endpointId: paused.id, orgId: paused.orgId, reason }, 'hookrelay: endpoint paused');
    events.emit('endpointPaused', info);
    if (!onEndpointPaused) return null;
    return Promise.resolve()
      .then(() => onEndpointPaused(info))
      .catch((err: unknown) => {
        logger.error({ err, endpointId: paused.id }, 'hookrelay: onEndpointPaused threw');
        events.emit('error', { error: err, during: 'onEndpointPaused' });
      });
  }
}
