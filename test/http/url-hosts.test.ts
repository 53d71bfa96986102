import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/service.js';
import { type Api, type Harness, HARNESSES, type Mounted, client, newService } from './harness.js';

// Issue 25: "URL hosts are stored as they will be called. Refuse hosts containing invisible or
// bidirectional-control characters (422 with details), and store and return IDN hosts in their
// ASCII (xn--) form, so the customer sees the host that is called."
describe.each(HARNESSES)('REST API over $name: url hosts', (harness: Harness) => {
  let service: WebhookService;
  let mounted: Mounted;
  let api: Api;

  beforeAll(async () => {
    service = newService({ delivery: { allowHttp: false, allowPrivateNetworks: false } });
    mounted = await harness.mount(service);
    api = client(mounted.baseUrl);
  });
  afterAll(async () => {
    await mounted.close();
    await service.stop();
  });

  it.each([
    ['a soft hyphen', 'https://hooks.exa\u00admple.com/a'],
    ['a zero-width space', 'https://hooks.exa\u200bmple.com/a'],
    ['a zero-width joiner', 'https://hooks.exa\u200dmple.com/a'],
    ['a right-to-left override', 'https://hooks.\u202eelpmaxe.com/a'],
    ['a first-strong isolate', 'https://hooks.\u2068example.com/a'],
  ])('POST and PATCH refuse a host with %s: 422 with details.url, nothing stored', async (_, url) => {
    const created = await api('POST', '/webhooks', { body: { url, events: ['execution.completed'] } });
    expect(created.status).toBe(422);
    expect(created.json.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { url: 'must not contain invisible or bidirectional-control characters' } });
    const ok = await api('POST', '/webhooks', { body: { url: 'https://hooks.example.com/a', events: ['execution.completed'] } });
    const patched = await api('PATCH', `/webhooks/${ok.json.id}`, { body: { url } });
    expect(patched.status).toBe(422);
    expect(Object.keys(patched.json.error.details)).toEqual(['url']);
    expect((await api('GET', `/webhooks/${ok.json.id}`)).json.url).toBe('https://hooks.example.com/a');
  });

  it('POST and PATCH store and answer an IDN host in its xn-- form, which GET and list return', async () => {
    const created = await api('POST', '/webhooks', { body: { url: 'https://münchen.example/hook', events: ['execution.completed'] } });
    expect(created.status).toBe(201);
    expect(created.json.url).toBe('https://xn--mnchen-3ya.example/hook');
    expect((await api('GET', `/webhooks/${created.json.id}`)).json.url).toBe('https://xn--mnchen-3ya.example/hook');
    const patched = await api('PATCH', `/webhooks/${created.json.id}`, { body: { url: 'https://\u0430pple.com/hook' } });
    expect(patched.status).toBe(200);
    expect(patched.json.url).toBe('https://xn--pple-43d.com/hook');
    const listed = (await api('GET', '/webhooks?limit=100')).json.data.find((e: { id: string }) => e.id === created.json.id);
    expect(listed.url).toBe('https://xn--pple-43d.com/hook');
  });
});
