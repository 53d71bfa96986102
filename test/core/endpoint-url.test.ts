import { describe, expect, it } from 'vitest';
import { MAX_URL_LENGTH } from '../../src/validation/url.js';
import { ORG, endpointService } from '../support/endpoint-service.js';
import { rejectsValidation } from '../support/webhook-error-assertions.js';

// These tests only ask the validator for a decision: nothing here ever connects to an address.
const EVENTS = ['wallet.balance_low'];

/** Literal hosts that mean this machine or a private/link-local network, in the notations URL parsers accept. */
const NON_PUBLIC_HOSTS = [
  'https://127.0.0.1/hook',
  'https://0x7f.1/hook', // hex, two parts
  'https://127.1/hook', // short form
  'https://2130706433/hook', // one decimal number
  'https://017700000001/hook', // one octal number
  'https://0177.0.0.1/hook', // octal first part
  'https://127.0.0.1./hook', // trailing dot
  'https://127。0。0。1/hook', // ideographic full stops
  'https://0/hook', // 0.0.0.0
  'https://0.0.0.0/hook',
  'https://[::1]/hook',
  'https://[0:0:0:0:0:0:0:1]/hook',
  'https://[::]/hook',
  'https://[::ffff:127.0.0.1]/hook', // IPv4-mapped loopback
  'https://[::ffff:7f00:1]/hook',
  'https://[::ffff:169.254.169.254]/hook', // IPv4-mapped link-local
  'https://[64:ff9b::7f00:1]/hook', // NAT64 of loopback
  'https://[2002:7f00:1::]/hook', // 6to4 of loopback
  'https://[::127.0.0.1]/hook', // IPv4-compatible
  'https://169.254.169.254/latest/meta-data', // cloud metadata, link-local
  'https://[fe80::1]/hook',
  'https://10.0.0.1/hook',
  'https://172.16.0.1/hook',
  'https://192.168.1.1/hook',
  'https://100.64.0.1/hook', // CGNAT
  'https://[fc00::1]/hook',
  'https://[fd12:3456::1]/hook',
  'https://224.0.0.1/hook',
  'https://255.255.255.255/hook',
];

const LOCAL_NAMES = ['https://localhost/hook', 'https://LOCALHOST:8443/hook', 'https://localhost./hook', 'https://api.localhost/hook', 'https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/hook'];

// Seed: "url must use HTTPS. A bad scheme returns 422 VALIDATION_FAILED with details.url."
describe('url must use HTTPS', () => {
  it('accepts an absolute https URL and stores it as given', async () => {
    const { service } = endpointService();
    for (const url of ['https://hooks.example.com/y3labs/ops', 'https://hooks.example.com:8443/a?b=c#d', 'https://8.8.8.8/hook', 'https://[2606:4700::1111]/hook']) {
      expect((await service.create(ORG, { url, events: EVENTS })).endpoint.url).toBe(url);
    }
  });

  it('rejects other schemes in details.url', async () => {
    const { service } = endpointService();
    for (const url of ['http://hooks.example.com/a', 'ftp://hooks.example.com/a', 'javascript:alert(1)', 'file:///etc/passwd', 'ws://hooks.example.com', 'data:text/plain,hi']) {
      const error = await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
      expect(error.details?.url).toBe('must use https');
    }
  });

  it('rejects what is not an absolute URL', async () => {
    const { service } = endpointService();
    for (const url of ['', '/relative/path', 'hooks.example.com', 'https://', 'https://exa mple.com', 42, null, ['https://x.example.com']]) {
      await rejectsValidation(service.create(ORG, { url, events: EVENTS } as never), 'url');
    }
  });

  it('accepts plain http only with delivery.allowHttp', async () => {
    const { service } = endpointService({ delivery: { allowHttp: true } });
    expect((await service.create(ORG, { url: 'http://hooks.example.com/a', events: EVENTS })).endpoint.url).toBe('http://hooks.example.com/a');
    await rejectsValidation(service.create(ORG, { url: 'ftp://hooks.example.com/a', events: EVENTS }), 'url');
  });

  it('rejects credentials in the URL', async () => {
    const { service } = endpointService();
    for (const url of ['https://user:pw@hooks.example.com/a', 'https://user@hooks.example.com/a', 'https://:pw@hooks.example.com/a']) {
      const error = await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
      expect(error.details?.url).toMatch(/credentials/);
      expect(error.details?.url).not.toContain('pw');
    }
  });

  it(`accepts ${MAX_URL_LENGTH} characters and rejects ${MAX_URL_LENGTH + 1}`, async () => {
    const { service } = endpointService();
    const base = 'https://hooks.example.com/';
    const longest = base + 'a'.repeat(MAX_URL_LENGTH - base.length);
    expect((await service.create(ORG, { url: longest, events: EVENTS })).endpoint.url).toHaveLength(MAX_URL_LENGTH);
    await rejectsValidation(service.create(ORG, { url: `${longest}a`, events: EVENTS }), 'url');
    await rejectsValidation(service.create(ORG, { url: base + 'a'.repeat(1_000_000), events: EVENTS }), 'url');
  });

  it('rejects whitespace and control characters the URL parser would silently drop', async () => {
    const { service } = endpointService();
    for (const url of [' https://hooks.example.com/a', 'https://hooks.example.com/a\n', 'https://hooks.exa\tmple.com/a', 'https://hooks.example.com/\u0000']) {
      await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
    }
  });

  it('applies the same rules on update', async () => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, { url: 'https://hooks.example.com/a', events: EVENTS });
    await rejectsValidation(service.update(ORG, endpoint.id, { url: 'http://hooks.example.com/a' }), 'url');
    await rejectsValidation(service.update(ORG, endpoint.id, { url: 'https://[::1]/a' }), 'url');
    await rejectsValidation(service.update(ORG, endpoint.id, { url: 'https://u:p@hooks.example.com/a' }), 'url');
    expect((await service.get(ORG, endpoint.id)).url).toBe('https://hooks.example.com/a');
  });
});

describe('url must not target this machine or a private network (unless delivery.allowPrivateNetworks)', () => {
  it.each(NON_PUBLIC_HOSTS)('rejects %s', async (url) => {
    const { service } = endpointService();
    const error = await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
    expect(error.details?.url).toMatch(/private or reserved network/);
  });

  it.each(LOCAL_NAMES)('rejects the localhost name %s', async (url) => {
    const { service } = endpointService();
    const error = await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
    expect(error.details?.url).toBe('must not point to localhost');
  });

  it('accepts all of them with delivery.allowPrivateNetworks, and local http with allowHttp too', async () => {
    const { service } = endpointService({ delivery: { allowPrivateNetworks: true, allowHttp: true }, limits: { maxEndpointsPerOrg: 100 } });
    // Hosts written with non-ASCII characters are stored as the URL parser serializes them (issue 25).
    const calledAs: Record<string, string> = { 'https://127。0。0。1/hook': 'https://127.0.0.1/hook', 'https://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/hook': 'https://localhost/hook' };
    for (const url of [...NON_PUBLIC_HOSTS, ...LOCAL_NAMES, 'http://127.0.0.1:3000/hook', 'http://localhost:3000/hook']) {
      expect((await service.create(ORG, { url, events: EVENTS })).endpoint.url).toBe(calledAs[url] ?? url);
    }
  });

  it('allowPrivateNetworks does not allow http by itself', async () => {
    const { service } = endpointService({ delivery: { allowPrivateNetworks: true } });
    await rejectsValidation(service.create(ORG, { url: 'http://127.0.0.1:3000/hook', events: EVENTS }), 'url');
  });
});

/** Characters a reader cannot see, and bidirectional controls (issue 25: "a host name containing invisible characters … is stored as typed but delivered to the host without them"). */
const INVISIBLE = {
  'soft hyphen': '\u00ad',
  'zero-width space': '\u200b',
  'zero-width non-joiner': '\u200c',
  'zero-width joiner': '\u200d',
  'word joiner': '\u2060',
  'byte order mark': '\ufeff',
  'left-to-right embedding': '\u202a',
  'right-to-left override': '\u202e',
  'left-to-right isolate': '\u2066',
  'pop directional isolate': '\u2069',
  'left-to-right mark': '\u200e',
  'right-to-left mark': '\u200f',
  'arabic letter mark': '\u061c',
  'variation selector 16': '\ufe0f',
};

// Issue 25: "URL hosts are stored as they will be called. Refuse hosts containing invisible or
// bidirectional-control characters (422 with details), and store and return IDN hosts in their
// ASCII (xn--) form, so the customer sees the host that is called."
describe('url hosts are stored as they will be called', () => {
  it.each(Object.entries(INVISIBLE))('refuses a host with a %s, on create and update', async (_, char) => {
    const { service } = endpointService();
    const { endpoint } = await service.create(ORG, { url: 'https://hooks.example.com/a', events: EVENTS });
    for (const url of [`https://hooks.exa${char}mple.com/a`, `https://${char}hooks.example.com/a`, `https://hooks.example.com${char}/a`]) {
      const created = await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
      expect(created.details?.url).toBe('must not contain invisible or bidirectional-control characters');
      await rejectsValidation(service.update(ORG, endpoint.id, { url }), 'url');
    }
    expect((await service.list(ORG)).data.map((e) => e.url)).toEqual(['https://hooks.example.com/a']);
  });

  it('stores and returns IDN and look-alike hosts in their ASCII (xn--) form, on create and update', async () => {
    const { service } = endpointService();
    const cases = [
      ['https://münchen.example/hook', 'https://xn--mnchen-3ya.example/hook'],
      // Cyrillic "а" (U+0430) in place of the Latin "a".
      ['https://\u0430pple.com/hook', 'https://xn--pple-43d.com/hook'],
      ['https://ＨＯＯＫＳ.example.com/a', 'https://hooks.example.com/a'],
      ['https://bücher.example:8443/a?b=c#d', 'https://xn--bcher-kva.example:8443/a?b=c#d'],
    ];
    for (const [typed, called] of cases) {
      const { endpoint } = await service.create(ORG, { url: typed as string, events: EVENTS });
      expect(endpoint.url).toBe(called);
      expect((await service.get(ORG, endpoint.id)).url).toBe(called);
      expect(new URL(endpoint.url).hostname).toBe(new URL(typed as string).hostname);
      const updated = await service.update(ORG, endpoint.id, { url: typed as string });
      expect(updated.url).toBe(called);
    }
  });

  it('keeps an ASCII URL exactly as given', async () => {
    const { service } = endpointService();
    for (const url of ['https://Hooks.Example.com/A?b=C', 'https://xn--mnchen-3ya.example/hook', 'https://hooks.example.com']) {
      expect((await service.create(ORG, { url, events: EVENTS })).endpoint.url).toBe(url);
    }
  });

  it('refuses a non-ASCII URL whose ASCII form is longer than the limit', async () => {
    const { service } = endpointService();
    const url = `https://hooks.example.com/${'ü'.repeat(1000)}`;
    expect(url.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
    await rejectsValidation(service.create(ORG, { url, events: EVENTS }), 'url');
  });
});
