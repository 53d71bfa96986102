import { randomBytes } from 'node:crypto';

/** 32 random bytes, base64, behind the configured prefix (`whsec_` by default). */
export function generateSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64');
}
