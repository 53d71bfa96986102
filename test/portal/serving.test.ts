import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../src/errors.js';
import { PORTAL_CSP, createPortal } from '../../src/portal/portal.js';
import type { WebhookService } from '../../src/service.js';
import { newService } from '../http/harness.js';
import { MOUNTS, type Mounted } from './harness.js';

describe.each(Object.entries(MOUNTS))('portal serving over %s', (_name, mount) => {
  let service: WebhookService;
  let mounted: Mounted;
  let plain: Mounted;

  beforeAll(async () => {
    service = newService();
    mounted = await mount(service, { title: 'Acme <webhooks>', theme: { '--hr-color-accent': '#0a7d5a', '--hr-radius': '2px' } });
    plain = await mount(service, false as never);
  });
  afterAll(async () => {
    await mounted.close();
    await plain.close();
    await service.stop();
  });

  const get = (url: string, method = 'GET') => fetch(url, { method, redirect: 'manual' });
  const assetUrls = (html: string): string[] => [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1] as string);

  it('serves the page under a strict CSP, not cached long, naming only its own hashed assets', async () => {
    const response = await get(mounted.portalUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(PORTAL_CSP);
    expect(PORTAL_CSP).toMatch(/^default-src 'self';/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    // No inline script or style, nothing from another host: every reference is a relative asset path.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const urls = assetUrls(html);
    expect(urls.length).toBe(3);
    for (const url of urls) expect(url).toMatch(/^assets\/(app|style|theme)-[\w-]+\.(js|css)$/);
    // The title is escaped into the page.
    expect(html).toContain('<title>Acme &#60;webhooks&#62;</title>');
    expect(html).toContain('data-format="snake_case"');
  });

  it('serves the assets with long cache headers, under 60 KB gzipped in all', async () => {
    const html = await (await get(mounted.portalUrl)).text();
    let gzipped = 0;
    for (const url of assetUrls(html)) {
      const response = await get(new URL(url, mounted.portalUrl).href);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-type')).toMatch(url.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.toString('utf8')).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      gzipped += gzipSync(body).length;
    }
    expect(gzipped).toBeLessThan(60 * 1024);
  });

  it('serves the theme as a stylesheet of custom properties', async () => {
    const html = await (await get(mounted.portalUrl)).text();
    const theme = assetUrls(html).find((url) => url.includes('theme-')) as string;
    expect(await (await get(new URL(theme, mounted.portalUrl).href)).text()).toBe(':root{--hr-color-accent:#0a7d5a;--hr-radius:2px}\n');
  });

  it('redirects <mount>/portal to <mount>/portal/, answers HEAD, and 404s an unknown asset', async () => {
    const redirect = await get(mounted.portalUrl.slice(0, -1));
    expect(redirect.status).toBe(308);
    expect(new URL(redirect.headers.get('location') as string, mounted.portalUrl.slice(0, -1)).href).toBe(mounted.portalUrl);
    const head = await get(mounted.portalUrl, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const missing = await get(`${mounted.portalUrl}assets/app-NOPE.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(PORTAL_CSP);
  });

  it('is not served unless asked for', async () => {
    const response = await get(plain.portalUrl);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('id="portal"');
  });
});

describe('portal options', () => {
  it('refuses a bad title or theme with InvalidOptionsError naming the option', () => {
    const refused = (options: unknown): string[] => {
      try {
        createPortal(options as never, 'snake_case');
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError);
        return (error as InvalidOptionsError).issues.map((issue) => issue.option);
      }
      return [];
    };
    expect(refused({ title: '' })).toEqual(['portal.title']);
    expect(refused({ theme: { color: 'red' } })).toEqual(['portal.theme.color']);
    expect(refused({ theme: { '--hr-color-bg': 'red}body{display:none' } })).toEqual(['portal.theme.--hr-color-bg']);
    expect(refused({ theme: { '--hr-font': "x</style><script>" } })).toEqual(['portal.theme.--hr-font']);
    expect(refused('yes')).toEqual(['portal']);
    expect(refused(true)).toEqual([]);
  });
});
