import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import type { Resolver } from '../../src/net/guarded-lookup.js';
import type { WebhookService } from '../../src/service.js';
import { memoryStorage } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/storage.js';
import { type Harness, HARNESSES, type Mounted, client, newService } from '../http/harness.js';
import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';

// Issue 25: "Nothing that a tenant can read names a resolved address. The address goes only to the
// host's logger, at warn level, with the endpoint id."
// The fake names resolve only to loopback addresses, so nothing outside this machine is ever reached,
// even if the guard let a connection through.
const RESOLVED: Record<string, string[]> = {
  'db.internal.example': ['127.10.20.30'],
  'two.internal.example': ['127.10.20.31', '::ffff:127.10.20.32'],
};
const resolver: Resolver = async (host) => (RESOLVED[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
const ADDRESS_TRACES = [/127\.10\./, /::ffff/i, /loopback/i];

interface Warning {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function warningLogger(): Logger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  const noop = (): void => {};
  return { debug: noop, info: noop, error: noop, warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }), warnings };
}

const STORAGES: { name: string; open(): Promise<{ storage: Storage; close(): Promise<void> }> }[] = [
  { name: 'memory', open: async () => ({ storage: memoryStorage(), close: async () => {} }) },
  { name: 'sqlite', open: () => openSqliteFileStorage('hookrelay-blocked-') },
];

const cases = STORAGES.flatMap((storage) => HARNESSES.map((harness) => ({ storage, harness, label: `${storage.name} over ${harness.name}` })));

describe.each(cases)('a delivery the SSRF guard blocked, read over REST ($label)', ({ storage: storageKind, harness }: (typeof cases)[number] & { harness: Harness }) => {
  let service: WebhookService | undefined;
  let mounted: Mounted | undefined;
  let closeStorage: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await mounted?.close();
    await service?.stop();
    await closeStorage?.();
    service = mounted = closeStorage = undefined;
  });

  it.each(Object.keys(RESOLVED))('says what happened for %s without naming an address; the host log has it', async (host) => {
    const opened = await storageKind.open();
    closeStorage = opened.close;
    const logger = warningLogger();
    // allowPrivateNetworks stays off (the default): the guard is what is under test.
    service = newService({ storage: opened.storage, logger, retry: { schedule: ['1s'] }, delivery: { allowHttp: true, resolver } });
    mounted = await harness.mount(service);
    const api = client(mounted.baseUrl);

    const created = await api('POST', '/webhooks', { body: { url: `https://${host}/hook`, events: ['execution.completed'] } });
    expect(created.status, created.text).toBe(201);
    const endpointId = created.json.id as string;
    const sent = await api('POST', `/webhooks/${endpointId}/test`);
    expect(sent.status, sent.text).toBe(202);
    const deliveryId = sent.json.delivery.id as string;
    await service.deliverDue();

    const reads = [
      sent,
      await api('GET', `/webhooks/${endpointId}/deliveries/${deliveryId}`),
      await api('GET', `/webhooks/${endpointId}/deliveries`),
      await api('GET', `/webhooks/${endpointId}/deliveries?status=pending`),
      await api('GET', `/webhooks/${endpointId}`),
    ];
    for (const read of reads) {
      expect(read.status, read.text).toBeLessThan(300);
      for (const trace of ADDRESS_TRACES) expect(read.text).not.toMatch(trace);
    }
    const attempt = reads[1]!.json.attempts[0];
    expect(attempt).toMatchObject({ status_code: null, error_kind: 'blocked', error_message: 'blocked by the SSRF guard: the host name resolves to a non-public address' });
    expect(reads[2]!.json.data[0]).toMatchObject({ id: deliveryId, last_error: 'blocked' });

    const blocked = logger.warnings.filter((w) => w.msg === 'hookrelay: delivery blocked by the SSRF guard');
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.obj).toMatchObject({ endpointId, deliveryId, blocked: expect.stringMatching(new RegExp(`^${host.replace(/\./g, '\\.')} resolves to 127\\.10\\.20\\.3[01], a loopback address`)) });
    // The attempt-failed warning carries the tenant's message only.
    for (const w of logger.warnings.filter((w) => w !== blocked[0])) expect(JSON.stringify(w.obj)).not.toMatch(/127\.10\./);
  });
});
