import { randomBytes } from 'node:crypto';

const SECRET_BYTES = 32;

/** 32 random bytes from the CSPRNG, base64, behind the configured prefix (`whsec_` by default). */
export function generateSecret(prefix: string): string {
  return prefix + randomBytes(SECRET_BYTES).toString('base64');
}
