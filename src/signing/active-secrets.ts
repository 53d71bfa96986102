import type { EndpointSecret } from '../model.js';
import { MAX_SIGNING_SECRETS } from './secret-rotation.js';

/**
 * The secrets that sign an attempt at `now`, newest first: the current one plus any rotated-out
 * secret whose grace period has not ended, at most MAX_SIGNING_SECRETS of them (rotations keep no
 * more; this also bounds secrets written before that rule). What `SignInput.secrets` expects.
 */
export function activeSigningSecrets(secrets: readonly EndpointSecret[], now: Date | number): string[] {
  const nowMs = typeof now === 'number' ? now : now.getTime();
  return [...secrets]
    .filter((s) => s.expiresAt === null || s.expiresAt.getTime() > nowMs)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
    .slice(0, MAX_SIGNING_SECRETS)
    .map((s) => s.secret);
}
