import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { WebhookService } from '../../src/service.js';
import { activeSigningSecrets, hmacSha256Hex, standardWebhooks, verifyWebhook } from '../../src/signing/index.js';
import { memoryStorage } from '../../src/storage/memory.js';
import { manualClock } from '../../src/testing/index.js';
import { eventBody } from './fixtures.js';

async function rotatedEndpoint() {
  const clock = manualClock();
  const storage = memoryStorage();
  const service = new WebhookService({ storage, eventTypes: ['execution.completed'], clock, rotationGracePeriod: '24h' });
  await service.migrate();
  const { endpoint, secret: oldSecret } = await service.create('org_1', { url: 'https://hooks.example.com/ya', events: ['execution.completed'] });
  clock.advance('1h');
  const { secret: newSecret } = await service.rotate('org_1', endpoint.id);
  const attempt = async () => {
    const record = await storage.getEndpoint('org_1', endpoint.id);
    if (!record) throw new Error('endpoint vanished');
    const body = eventBody();
    const timestamp = Math.floor(clock.now() / 1000);
    const input = { endpointId: endpoint.id, eventId: 'evt_rot', timestamp, body, secrets: activeSigningSecrets(record.secrets, clock.now()) };
    return { input, standard: standardWebhooks().sign(input), hex: hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' }).sign(input) };
  };
  return { clock, oldSecret, newSecret, attempt };
}

describe('secret rotation (injected clock)', () => {
  it('during the grace period both secrets sign, and a receiver holding either verifies', async () => {
    const { clock, oldSecret, newSecret, attempt } = await rotatedEndpoint();
    clock.advance('23h');
    const { input, standard } = await attempt();
    expect(input.secrets).toEqual([newSecret, oldSecret]);
    expect((standard['webhook-signature'] as string).split(' ')).toHaveLength(2);
    // verifyWebhook, not the reference verifier: that one reads the real clock, 24 h behind this attempt.
    for (const secret of [oldSecret, newSecret]) {
      expect(verifyWebhook({ payload: input.body, headers: standard, secret, now: clock.now() }).id).toBe(JSON.parse(input.body).id);
    }
  });

  it('right after rotation the reference verifier accepts both signatures', async () => {
    const { oldSecret, newSecret, attempt, clock } = await rotatedEndpoint();
    clock.set(Date.now());
    const { input, standard } = await attempt();
    expect(new StandardWebhook(oldSecret).verify(input.body, standard)).toEqual(JSON.parse(input.body));
    expect(new StandardWebhook(newSecret).verify(input.body, standard)).toEqual(JSON.parse(input.body));
  });

  it('after the grace period only the new secret signs', async () => {
    const { clock, oldSecret, newSecret, attempt } = await rotatedEndpoint();
    clock.advance('24h');
    const { input, standard } = await attempt();
    expect(input.secrets).toEqual([newSecret]);
    expect((standard['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(verifyWebhook({ payload: input.body, headers: standard, secret: newSecret, now: clock.now() }).type).toBe('execution.completed');
    expect(() => verifyWebhook({ payload: input.body, headers: standard, secret: oldSecret, now: clock.now() })).toThrow(
      expect.objectContaining({ code: 'BAD_SIGNATURE' }),
    );
  });

  it('the hex scheme signs with the new secret only, even during the grace period', async () => {
    const { clock, oldSecret, newSecret, attempt } = await rotatedEndpoint();
    const scheme = hmacSha256Hex({ headerPrefix: 'X-YA-Webhook' });
    const { input, hex } = await attempt();
    expect(verifyWebhook({ payload: input.body, headers: hex, secret: newSecret, scheme, now: clock.now() }).id).toBeTypeOf('string');
    expect(verifyWebhook({ payload: input.body, headers: hex, secret: [newSecret, oldSecret], scheme, now: clock.now() }).id).toBeTypeOf('string');
    expect(() => verifyWebhook({ payload: input.body, headers: hex, secret: oldSecret, scheme, now: clock.now() })).toThrow(
      expect.objectContaining({ code: 'BAD_SIGNATURE' }),
    );
  });
});

describe('activeSigningSecrets', () => {
  it('keeps unexpired secrets, newest first, whatever order storage returns', () => {
    const t = (s: number) => new Date(1_800_000_000_000 + s * 1000);
    const secrets = [
      { secret: 'old', createdAt: t(0), expiresAt: t(100) },
      { secret: 'current', createdAt: t(50), expiresAt: null },
      { secret: 'expired', createdAt: t(-10), expiresAt: t(10) },
    ];
    expect(activeSigningSecrets(secrets, t(20))).toEqual(['current', 'old']);
    expect(activeSigningSecrets(secrets, t(100).getTime())).toEqual(['current']);
  });

  it('signs with at most the 3 newest unexpired secrets, also for a list stored before rotations were bounded', () => {
    const now = Date.UTC(2026, 0, 2);
    const stored = Array.from({ length: 10 }, (_, i) => ({ secret: `whsec_${Buffer.alloc(32, i).toString('base64')}`, createdAt: new Date(now - (10 - i) * 1000), expiresAt: i === 9 ? null : new Date(now + 3_600_000) }));
    expect(activeSigningSecrets(stored, now)).toEqual([stored[9]!.secret, stored[8]!.secret, stored[7]!.secret]);
  });
});
