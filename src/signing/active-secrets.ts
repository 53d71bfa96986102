import type { EndpointSecret } from '../model.js';

/**
 * The secrets that sign an attempt at `now`, newest first: the current one plus any rotated-out
 * secret whose grace period has not ended. What `SignInput.secrets` expects.
 */
export function activeSigningSecrets(secrets: readonly EndpointSecret[], now: Date | number): string[] {
  const nowMs = typeof now === 'number' ? now : now.getTime();
  return [...secrets]
    .filter((s) => s.expiresAt === null || s.expiresAt.getTime() > nowMs)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .map((s) => s.secret);
}
