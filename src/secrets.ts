import { randomFillSync } from 'node:crypto';

const SECRET_BYTES = 32;
/** 128 secrets a refill: one call into the CSPRNG where each `randomBytes(32)` would make its own. */
const POOL_BYTES = SECRET_BYTES * 128;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * 32 random bytes, base64, behind the configured prefix (`whsec_` by default). The bytes come
 * from a pooled buffer refilled by the CSPRNG; each secret's bytes are zeroed as soon as they
 * are encoded, so the pool never holds a secret that was already handed out.
 */
export function generateSecret(prefix: string): string {
  if (offset + SECRET_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const end = offset + SECRET_BYTES;
  const encoded = pool.toString('base64', offset, end);
  pool.fill(0, offset, end);
  offset = end;
  return prefix + encoded;
}
