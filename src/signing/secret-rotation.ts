import type { EndpointSecret } from '../model.js';

/**
 * How many secrets sign an attempt at once: the current one plus two rotated-out ones still in
 * their grace period. Each one adds a signature to every delivery (and an HMAC to compute), so an
 * unbounded number would let a loop of rotations make every header too large for the receiver
 * (Node answers 431 past 16 KiB) and every delivery cost the host CPU.
 */
export const MAX_SIGNING_SECRETS = 3;

/**
 * The endpoint's secrets after rotating to `secret` at `now`, newest first: `secret`, then the
 * previous current one with its expiry set to `previousExpiresAt`, then older ones still in their
 * grace period. Secrets expired at `now` are dropped, and so is everything past the
 * MAX_SIGNING_SECRETS newest: a rotation beyond that expires the oldest at once. Every storage's
 * `rotateSecret` writes what this returns.
 */
export function rotateSecrets(secrets: readonly EndpointSecret[], secret: EndpointSecret, previousExpiresAt: Date, now: Date): EndpointSecret[] {
  const previous = secrets
    .map((s) => (s.expiresAt === null ? { ...s, expiresAt: previousExpiresAt } : s))
    .filter((s) => (s.expiresAt as Date).getTime() > now.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return [secret, ...previous.slice(0, MAX_SIGNING_SECRETS - 1)];
}
