import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from 'hookrelay/fastify';

/**
 * The seed: "Authenticate by sending your API key as a bearer token: Authorization: Bearer am_live_....
 * Every request is automatically scoped to the organization that owns the key and to the scopes
 * granted to that key." Keys are stored hashed, as a host should; the plain key is shown once.
 */
export class ApiKeyStore {
  private readonly byHash = new Map<string, Principal>();

  /** Mints a key for `orgId` with `scopes`; the returned string is the only copy of it. */
  issue(orgId: string, scopes: readonly string[]): string {
    const key = `am_live_${randomBytes(24).toString('base64url')}`;
    this.byHash.set(hash(key), { orgId, scopes: [...scopes] });
    return key;
  }

  /** The principal of an `Authorization: Bearer am_live_…` header, or undefined (→ 401). */
  authenticate(authorization: string | undefined): Principal | undefined {
    const match = /^Bearer (am_live_[A-Za-z0-9_-]{16,128})$/.exec(authorization ?? '');
    return match ? this.byHash.get(hash(match[1] as string)) : undefined;
  }
}

function hash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
