import { afterEach, beforeEach, expect, it } from 'vitest';
import { postgresStorage } from '../../adapters/postgres/index.js';
import type { SqlStorage } from '../../adapters/sql/sql-storage.js';
import { WebhookService } from '../../src/index.js';
import { describePostgres, dropSchema, testSchema } from '../support/postgres-test-db.js';

/**
 * On Postgres, emits that arrive together share one read of their orgs' endpoints. Sharing
 * must never leak: each emit fans out to its own org's subscribers only, and one that starts
 * after an endpoint was created sees it.
 */
describePostgres('Postgres: emits arriving together share one endpoint read', (url) => {
  let schema: string;
  let storage: SqlStorage;
  let hooks: WebhookService;

  beforeEach(async () => {
    schema = testSchema('read');
    storage = postgresStorage({ connectionString: url, schema });
    hooks = new WebhookService({ storage, eventTypes: ['order.paid', 'order.voided'] });
    await hooks.migrate();
  });
  afterEach(async () => {
    await storage.close();
    await dropSchema(url, schema);
  });

  it('a burst of emits from many orgs fans out to each org’s own subscribers only', async () => {
    const orgs = Array.from({ length: 12 }, (_, i) => `org_${i}`);
    const subscribers = new Map<string, Set<string>>();
    for (const org of orgs) {
      const paid = await hooks.create(org, { url: `https://hooks.example.com/${org}/paid`, events: ['order.paid'] });
      await hooks.create(org, { url: `https://hooks.example.com/${org}/voided`, events: ['order.voided'] });
      subscribers.set(org, new Set([paid.endpoint.id]));
    }
    const results = await Promise.all(
      Array.from({ length: 240 }, (_, i) => {
        const org = orgs[i % orgs.length] as string;
        return hooks.emit(org, { type: 'order.paid', data: { i } }).then((r) => ({ org, r }));
      }),
    );
    for (const { org, r } of results) {
      expect(r.deliveries.map((d) => d.endpointId)).toEqual([...(subscribers.get(org) as Set<string>)]);
      expect(r.deliveries.every((d) => d.orgId === org)).toBe(true);
    }
  });

  it('an emit that starts after a create sees the new endpoint, also mid-burst', async () => {
    const first = await hooks.create('org_a', { url: 'https://hooks.example.com/a', events: ['order.paid'] });
    const before = Array.from({ length: 20 }, (_, i) => hooks.emit('org_a', { type: 'order.paid', data: { i } }));
    const second = await hooks.create('org_a', { url: 'https://hooks.example.com/b', events: ['order.paid'] });
    const after = await hooks.emit('org_a', { type: 'order.paid', data: { last: true } });
    await Promise.all(before);
    expect(after.deliveries.map((d) => d.endpointId).sort()).toEqual([first.endpoint.id, second.endpoint.id].sort());
  });
});
