import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAddress } from '../../src/net/address-policy.js';
import { resolveChecked } from '../../src/net/guarded-lookup.js';
import { EXCERPT_BYTES, HttpTransport } from '../../src/delivery/transport.js';
import { newId } from '../../src/ids.js';
import { WebhookService, memoryStorage } from '../../src/index.js';
import { createTestReceiver, manualClock, type TestReceiver } from '../../src/testing/index.js';
import { type Harness, harness } from './helpers.js';

let h: Harness | undefined;
let receiver: TestReceiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

async function attemptAgainst(setup: (h: Harness) => void, delivery: { timeout?: string; maxResponseBytes?: number } = {}) {
  h = await harness({ delivery: { ...delivery, ...(delivery.timeout ? { lease: '30s' } : {}) } });
  await h.endpoint();
  setup(h);
  const { deliveries } = await h.hooks.emit('org_1', { type: 'execution.completed', data: {} });
  await h.hooks.deliverDue();
  return h.hooks.getDelivery('org_1', deliveries[0]!.id);
}

describe('transport faults (each is one failed attempt with its kind, then a retry)', () => {
  it('500 keeps status and a response excerpt', async () => {
    const d = await attemptAgainst((h) => h.receiver.failNext(1, 500, { body: 'internal oops' }));
    expect(d.attempts[0]).toMatchObject({ attemptNumber: 1, statusCode: 500, errorKind: 'http', errorMessage: 'HTTP 500', responseExcerpt: 'internal oops' });
    expect([d.status, d.lastStatusCode, d.lastError]).toEqual(['pending', 500, 'http']);
    expect(d.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('slow headers past the total timeout count as a timeout', async () => {
    const d = await attemptAgainst((h) => h.receiver.respondNext({ kind: 'slow', ms: 1500 }), { timeout: '300ms' });
    expect(d.attempts[0]).toMatchObject({ statusCode: null, errorKind: 'timeout' });
    expect(d.attempts[0]!.durationMs).toBeGreaterThanOrEqual(250);
    expect(d.attempts[0]!.durationMs).toBeLessThan(1400);
  });

  it('a hung receiver is cut off by the total timeout', async () => {
    const d = await attemptAgainst((h) => h.receiver.respondNext({ kind: 'hang' }), { timeout: '200ms' });
    expect(d.attempts[0]).toMatchObject({ statusCode: null, errorKind: 'timeout' });
  });

  it('a reset connection is kind "reset"', async () => {
    const d = await attemptAgainst((h) => h.receiver.respondNext({ kind: 'reset' }));
    expect(d.attempts[0]).toMatchObject({ statusCode: null, errorKind: 'reset' });
  });

  it('redirects are never followed: 3xx is a failure of kind "redirect"', async () => {
    let target: TestReceiver | undefined = await createTestReceiver();
    receiver = target;
    const d = await attemptAgainst((h) => h.receiver.respondNext({ kind: 'redirect', status: 307, location: target!.url }));
    expect(d.attempts[0]).toMatchObject({ statusCode: 307, errorKind: 'redirect' });
    expect(target.requests).toHaveLength(0);
    target = undefined;
  });

  it('a huge response is read up to the cap; the excerpt keeps 4 KiB', async () => {
    const d = await attemptAgainst((h) => h.receiver.respondNext({ kind: 'huge', bytes: 20 * 1024 * 1024 }), { maxResponseBytes: 256 * 1024 });
    expect(d.status).toBe('succeeded');
    expect(d.attempts[0]!.responseExcerpt).toHaveLength(EXCERPT_BYTES);
    expect(d.attempts[0]!.durationMs).toBeLessThan(1500);
  });

  it('a closed port is kind "refused"', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const t = new HttpTransport({ timeoutMs: 1000, connectTimeoutMs: 500, maxResponseBytes: 1024, allowPrivateNetworks: true });
    const result = await t.send({ url: `http://127.0.0.1:${port}/hook`, headers: {}, body: '{}' });
    await t.close();
    expect(result).toMatchObject({ statusCode: null, errorKind: 'refused', errorMessage: 'connection refused' });
  });

  it('https through the pinned lookup keeps the URL\'s name for SNI; an untrusted certificate is kind "tls"', async () => {
    const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
    const context = createSecureContext({ key: fixture('self-signed-key.pem'), cert: fixture('self-signed-cert.pem') });
    const serverNames: string[] = [];
    const server = createTlsServer({
      SNICallback: (servername, callback) => {
        serverNames.push(servername);
        callback(null, context);
      },
    });
    server.on('tlsClientError', () => {});
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const t = new HttpTransport({
      timeoutMs: 2000,
      connectTimeoutMs: 1000,
      maxResponseBytes: 1024,
      allowPrivateNetworks: true,
      resolver: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    try {
      const result = await t.send({ url: `https://hooks.test:${port}/hook`, headers: {}, body: '{}' });
      expect(result).toMatchObject({ statusCode: null, errorKind: 'tls' });
      expect(result.errorMessage).toMatch(/^TLS handshake failed/);
      expect(serverNames).toEqual(['hooks.test']);
    } finally {
      await t.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an unresolvable name is kind "dns"', async () => {
    const t = new HttpTransport({ timeoutMs: 1000, connectTimeoutMs: 500, maxResponseBytes: 1024, allowPrivateNetworks: false, resolver: async () => { throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' }); } });
    const result = await t.send({ url: 'https://no-such-host.test/hook', headers: {}, body: '{}' });
    await t.close();
    expect(result).toMatchObject({ statusCode: null, errorKind: 'dns' });
  });
});

describe('SSRF guard (on by default): nothing reaches the loopback receiver', () => {
  const guardedService = (resolver?: (host: string) => Promise<{ address: string; family: 4 | 6 }[]>) =>
    new WebhookService({
      storage: memoryStorage(),
      eventTypes: ['execution.completed'],
      clock: manualClock(),
      // allowPrivateNetworks: false (the default); endpoints are written to storage directly below
      // because endpoint validation already refuses these URLs at creation.
      delivery: { allowHttp: true, ...(resolver ? { resolver } : {}) },
    });

  async function deliverTo(hooks: WebhookService, url: string) {
    const now = new Date();
    await hooks.storage.createEndpoint(
      { id: newId('endpoint'), orgId: 'org_1', url, events: ['execution.completed'], description: null, apiVersion: '2026-04-01', filter: null, status: 'active', pausedReason: null, createdAt: now, updatedAt: now, deletedAt: null, secrets: [{ secret: 'whsec_' + Buffer.alloc(32, 1).toString('base64'), createdAt: now, expiresAt: null }] },
      { maxPerOrg: 50 },
    );
    const { deliveries } = await hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await hooks.deliverDue();
    const d = await hooks.getDelivery('org_1', deliveries.at(-1)!.id);
    await hooks.stop();
    return d;
  }

  it('refuses loopback literals in every notation, localhost, and IPv6 loopback forms', async () => {
    receiver = await createTestReceiver();
    const v6 = await createTestReceiver({ host: '::1' });
    try {
      const port = receiver.port;
      const hosts = ['127.0.0.1', '127.1', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '127.0.0.2', 'localhost', 'LOCALHOST.', 'api.localhost', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0:0:0:0:0:ffff:7f00:1]', '[64:ff9b::7f00:1]', '[2002:7f00:1::]', '[::]', '0.0.0.0'];
      for (const host of hosts) {
        const d = await deliverTo(guardedService(), `http://${host}:${port}/hook`);
        expect(d.attempts[0], host).toMatchObject({ statusCode: null, errorKind: 'blocked', errorMessage: expect.stringMatching(/^blocked by the SSRF guard: the host (name always means this machine|is a non-public address)$/) });
      }
      const d6 = await deliverTo(guardedService(), `http://[::1]:${v6.port}/hook`);
      expect(d6.attempts[0]).toMatchObject({ errorKind: 'blocked' });
      expect(receiver.requests).toHaveLength(0);
      expect(v6.requests).toHaveLength(0);
    } finally {
      await v6.close();
    }
  });

  it('refuses a name that resolves to loopback, and a name with any private address among public ones', async () => {
    receiver = await createTestReceiver();
    const lookups: string[] = [];
    const resolver = async (host: string) => {
      lookups.push(host);
      if (host === 'sneaky.example') return [{ address: '127.0.0.1', family: 4 as const }];
      return [{ address: '93.184.216.34', family: 4 as const }, { address: '10.0.0.5', family: 4 as const }];
    };
    const a = await deliverTo(guardedService(resolver), `http://sneaky.example:${receiver.port}/hook`);
    expect(a.attempts[0]).toMatchObject({ errorKind: 'blocked' });
    // Issue 25: the tenant reads what happened, never the address the name resolved to.
    expect(a.attempts[0]!.errorMessage).toBe('blocked by the SSRF guard: the host name resolves to a non-public address');
    const b = await deliverTo(guardedService(resolver), `https://mixed.example/hook`);
    expect(b.attempts[0]).toMatchObject({ errorKind: 'blocked' });
    expect(lookups).toEqual(['sneaky.example', 'mixed.example']);
    expect(receiver.requests).toHaveLength(0);
  });

  it('connects to the checked address, keeping the Host header of the URL (pinning)', async () => {
    receiver = await createTestReceiver();
    const hooks = new WebhookService({
      storage: memoryStorage(),
      eventTypes: ['execution.completed'],
      delivery: { allowHttp: true, allowPrivateNetworks: true, resolver: async () => [{ address: '127.0.0.1', family: 4 }] },
    });
    const { endpoint } = await hooks.create('org_1', { url: `http://hooks.customer.example:${receiver.port}/hook`, events: ['execution.completed'] });
    await hooks.emit('org_1', { type: 'execution.completed', data: {} });
    await hooks.deliverDue();
    await hooks.stop();
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.host).toBe(`hooks.customer.example:${receiver.port}`);
    expect(endpoint.url).toContain('hooks.customer.example');
  });

  it('the decision function refuses private, link-local, CGNAT, multicast and embedded forms (never connected to)', async () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '224.0.0.1', '0.0.0.0', '255.255.255.255', 'fe80::1', 'fc00::1', 'ff02::1', '::', '::ffff:10.0.0.1', '64:ff9b::a9fe:a9fe', '2002:c0a8:0101::1']) {
      expect(checkAddress(ip).allowed, ip).toBe(false);
    }
    await expect(resolveChecked('metadata.internal', async () => [{ address: '169.254.169.254', family: 4 }], false)).rejects.toMatchObject({
      code: 'EHOOKRELAY_BLOCKED',
      message: 'the host name resolves to a non-public address',
      detail: 'metadata.internal resolves to 169.254.169.254, a linkLocal address',
    });
    await expect(resolveChecked('localhost', async () => [{ address: '93.184.216.34', family: 4 }], false)).rejects.toMatchObject({ code: 'EHOOKRELAY_BLOCKED' });
    await expect(resolveChecked('ok.example', async () => [{ address: '93.184.216.34', family: 4 }, { address: '2606:2800:220:1::1', family: 6 }], false)).resolves.toHaveLength(2);
  });

  it('endpoint creation already refuses literal private targets and localhost', async () => {
    const hooks = guardedService();
    for (const url of ['https://127.0.0.1/h', 'https://localhost/h', 'https://[::1]/h', 'https://10.0.0.1/h', 'https://169.254.169.254/latest']) {
      await expect(hooks.create('org_1', { url, events: ['execution.completed'] }), url).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});
