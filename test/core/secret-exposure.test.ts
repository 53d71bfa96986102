import { describe, expect, it } from 'vitest';
import { ORG, OTHER_ORG, VALID_INPUT, endpointService } from '../support/endpoint-service.js';

/** Every key anywhere in `value`, at any depth. */
function keysDeep(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysDeep(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

function expectNoSecret(value: unknown, secrets: string[], { checkKeys = true } = {}): void {
  const json = JSON.stringify(value);
  for (const secret of secrets) {
    expect(json).not.toContain(secret);
    // The base64 body alone must not appear either (e.g. a prefix-stripped copy).
    expect(json).not.toContain(secret.replace(/^whsec_/, ''));
  }
  if (!checkKeys) return;
  const keys = [...keysDeep(JSON.parse(json))].map((k) => k.toLowerCase());
  expect(keys.filter((k) => k.includes('secret'))).toEqual([]);
}

// Seed: "The endpoint's signing secret is returned in the secret field exactly once (base64-encoded).
// There is no endpoint that reads it back; rotate the endpoint to mint a new one."
describe('secrets are returned by create and rotate only, never on an Endpoint', () => {
  it('no returned Endpoint, page or error carries a secret, at any depth', async () => {
    const { service } = endpointService();
    const secrets: string[] = [];
    const returned: unknown[] = [];
    const errors: unknown[] = [];

    const created = await service.create(ORG, { ...VALID_INPUT, description: 'ops', filter: { agentId: 'agt_1' } });
    secrets.push(created.secret);
    returned.push(created.endpoint);
    const other = await service.create(ORG, VALID_INPUT);
    secrets.push(other.secret);
    returned.push(other.endpoint);

    const rotated = await service.rotate(ORG, created.endpoint.id);
    secrets.push(rotated.secret);
    returned.push(rotated.endpoint);
    expect(Object.keys(rotated).sort()).toEqual(['endpoint', 'secret']);
    expect(Object.keys(created).sort()).toEqual(['endpoint', 'secret']);

    returned.push(await service.get(ORG, created.endpoint.id));
    returned.push(await service.list(ORG));
    returned.push(await service.list(ORG, { limit: 1 }));
    returned.push(await service.update(ORG, created.endpoint.id, { status: 'paused', description: 'paused' }));
    returned.push(await service.update(ORG, created.endpoint.id, { status: 'active' }));
    returned.push(await service.delete(ORG, other.endpoint.id));
    for (const failing of [
      service.get(OTHER_ORG, created.endpoint.id),
      service.rotate(OTHER_ORG, created.endpoint.id),
      service.update(ORG, created.endpoint.id, { url: 'https://user:pass@x.example.com' }),
      service.create(ORG, { ...VALID_INPUT, secret: created.secret } as never),
    ]) {
      const error = await failing.then(() => null, (e: unknown) => e);
      expect(error).not.toBeNull();
      errors.push({ message: (error as Error).message, json: error });
    }

    for (const value of returned) expectNoSecret(value, secrets);
    // An error may name a rejected field called `secret`; it must never echo a value.
    for (const value of errors) expectNoSecret(value, secrets, { checkKeys: false });
    expect(new Set(secrets).size).toBe(3);
  });

  it('the scan itself catches a leaked secret', () => {
    expect(() => expectNoSecret({ deep: [{ note: 'whsec_abc' }] }, ['whsec_abc'])).toThrow();
    expect(() => expectNoSecret({ deep: [{ signingSecret: 'x' }] }, ['whsec_abc'])).toThrow();
  });
});
