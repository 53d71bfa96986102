import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookService } from '../../src/service.js';
import { type TestReceiver, createTestReceiver } from '../../src/testing/index.js';
import { newService } from '../http/harness.js';
import { type Browser, type Mounted, type PortalMount, launchBrowser } from './harness.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Markup that would run if any value reached the page as HTML instead of text. */
export const XSS = '<img src=x onerror="window.__xss=1">';
const XSS_SCRIPT = '<script>window.__xss=2</script>';

/**
 * The portal in headless Chromium over one framework: one browser for the file, one page per
 * test, the host's session cookie for org_1 (org_2's data is made through the REST API).
 */
export function portalSuite(name: string, mount: PortalMount): void {
  describe(`portal over ${name}, in Chromium`, () => {
    let service: WebhookService;
    let mounted: Mounted;
    let browser: Browser;
    let receiver: TestReceiver;
    let page: Page;

    beforeAll(async () => {
      receiver = await createTestReceiver();
      // No retries: a failed attempt finishes its delivery, so the XSS excerpt case is one attempt.
      service = newService({ retry: { schedule: [] } });
      mounted = await mount(service);
      browser = await launchBrowser();
      await browser.context.addCookies([{ name: 'session', value: 'sess-org1', url: mounted.origin }]);
    });
    afterAll(async () => {
      await browser?.close();
      await mounted?.close();
      await service?.stop();
      await receiver?.close();
    });
    afterEach(async () => {
      await page?.close();
      await service.deliverDue();
      receiver.clear();
    });

    /** The REST API as the host's other code would call it (bearer token of a session). */
    async function rest(method: string, path: string, body?: unknown, session = 'sess-org1'): Promise<any> {
      const response = await fetch(`${mounted.origin}/v1/${path}`, {
        method,
        headers: { authorization: `Bearer ${session}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: await response.json() };
    }

    async function endpointWithDelivery(session = 'sess-org1', extra: Record<string, unknown> = {}) {
      const created = await rest('POST', 'webhooks', { url: receiver.url, events: ['execution.completed'], ...extra }, session);
      expect(created.status).toBe(201);
      const sent = await rest('POST', `webhooks/${created.json.id}/test`, undefined, session);
      expect(sent.status).toBe(202);
      await service.deliverDue();
      return { endpoint: created.json, delivery: sent.json.delivery };
    }

    async function open(hash: string): Promise<Page> {
      page = await browser.context.newPage();
      // Injected by the test (not subject to the page's CSP): records any blocked inline script or style.
      await page.addInitScript(
        "window.__violations = []; document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));",
      );
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      (page as any).__errors = errors;
      await page.goto(mounted.portalUrl + hash);
      await page.locator('main h1').first().waitFor();
      return page;
    }

    // Code run in the page is written as strings: the Node typecheck has no DOM types.
    async function axeViolations(target: Page): Promise<string[]> {
      await target.evaluate(axeSource);
      const result = await target.evaluate<any>("axe.run(document, { resultTypes: ['violations'] })");
      return (result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }

    const main = () => page.locator('main');

    it('create → the secret is shown once → send a test event → the delivery appears with its attempt; retry sends it again', async () => {
      await open('#/new');
      await page.getByLabel('Endpoint URL').fill(receiver.url);
      await page.getByRole('checkbox', { name: 'execution.completed' }).check();
      await page.getByLabel('Description').fill('orders service');
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      await expect.poll(() => main().locator('h1').textContent()).toBe('Endpoint created');
      const secret = await page.getByLabel('Secret', { exact: true }).inputValue();
      expect(secret).toMatch(/^whsec_/);
      await expect.poll(() => main().textContent()).toContain('it is shown only once');
      expect(await page.getByRole('button', { name: 'Copy secret' }).isVisible()).toBe(true);
      receiver.setSecret(secret);

      await page.getByRole('link', { name: 'Go to the endpoint' }).click();
      await page.getByRole('button', { name: 'Send test event' }).waitFor();
      // Shown once: the endpoint's own page never holds it.
      expect(await page.content()).not.toContain(secret);
      await page.getByRole('button', { name: 'Send test event' }).click();
      const deliveries = page.getByRole('list', { name: 'Deliveries' });
      await expect.poll(() => deliveries.textContent()).toContain('pending');

      await service.deliverDue();
      expect(receiver.requests).toHaveLength(1);
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => deliveries.textContent()).toContain('succeeded');
      await deliveries.getByRole('link', { name: 'webhook.test' }).click();
      await expect.poll(() => main().textContent()).toContain('Attempt 1: HTTP 200');
      expect(await main().textContent()).toMatch(/\d+ ms/);

      await page.getByRole('button', { name: 'Retry delivery' }).click();
      await expect.poll(() => main().locator('.badge').first().textContent()).toBe('pending');
      await service.deliverDue();
      await page.reload();
      await expect.poll(() => main().textContent()).toContain('Attempt 2: HTTP 200');
      expect(receiver.requests).toHaveLength(2);
      expect((page as any).__errors).toEqual([]);
    });

    it('a 422 is shown beside its fields, and nothing is created', async () => {
      const before = (await rest('GET', 'webhooks')).json.data.length;
      await open('#/new');
      await page.getByLabel('Endpoint URL').fill('not a url');
      await page.getByRole('button', { name: 'Create endpoint' }).click();
      const urlError = page.locator('[data-field="url"] .field-error');
      await expect.poll(() => urlError.textContent()).not.toBe('');
      expect(await page.locator('[data-field="events"] .field-error').textContent()).not.toBe('');
      expect(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');
      // The message is tied to its control for screen readers.
      const describedBy = (await page.getByLabel('Endpoint URL').getAttribute('aria-describedby')) ?? '';
      expect(describedBy.split(' ')).toContain(await urlError.getAttribute('id'));
      expect((await rest('GET', 'webhooks')).json.data.length).toBe(before);
      expect(await axeViolations(page)).toEqual([]);
    });

    it('pause and resume; rotate and delete ask first; replay sends finished deliveries again', async () => {
      const { endpoint } = await endpointWithDelivery();
      receiver.clear();
      await open(`#/endpoints/${endpoint.id}`);
      const status = main().locator('dl.facts .badge');

      await page.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(() => status.textContent()).toBe('paused');
      expect((await rest('GET', `webhooks/${endpoint.id}`)).json.status).toBe('paused');
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => status.textContent()).toBe('active');
      expect((await rest('GET', `webhooks/${endpoint.id}`)).json.status).toBe('active');

      const updatedAt = (await rest('GET', `webhooks/${endpoint.id}`)).json.updated_at;
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
      await dialog.waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      expect(await page.locator('.secret').count()).toBe(0);
      expect((await rest('GET', `webhooks/${endpoint.id}`)).json.updated_at).toBe(updatedAt);
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await dialog.getByRole('button', { name: 'Rotate secret' }).click();
      const rotated = await page.getByLabel('Secret', { exact: true }).inputValue();
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(endpoint.secret);
      // The new secret is the one that signs now.
      receiver.setSecret(rotated);

      await page.getByRole('button', { name: 'Replay' }).click();
      await expect.poll(() => main().textContent()).toContain('1 deliveries replayed.');
      await service.deliverDue();
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]?.verified).toBe(true);

      await page.getByRole('button', { name: 'Delete' }).click();
      const confirmDelete = page.getByRole('dialog', { name: 'Delete this endpoint?' });
      await confirmDelete.getByRole('button', { name: 'Cancel' }).click();
      expect((await rest('GET', `webhooks/${endpoint.id}`)).status).toBe(200);
      await page.getByRole('button', { name: 'Delete' }).click();
      await confirmDelete.getByRole('button', { name: 'Delete endpoint' }).click();
      await expect.poll(() => main().locator('h1').textContent()).toBe('Endpoints');
      expect((await rest('GET', `webhooks/${endpoint.id}`)).status).toBe(404);
    });

    it("another org's endpoint id typed into the URL shows not found, and nothing of it", async () => {
      const { endpoint, delivery } = await endpointWithDelivery('sess-org2', { description: 'org two secret project' });
      await open(`#/endpoints/${endpoint.id}`);
      expect(await main().locator('h1').textContent()).toBe('Endpoint not found');
      await page.goto(`${mounted.portalUrl}#/endpoints/${endpoint.id}/deliveries/${delivery.id}`);
      await expect.poll(() => main().locator('h1').textContent()).toBe('Delivery not found');
      await page.goto(`${mounted.portalUrl}#/`);
      await main().locator('h1').waitFor();
      await page.waitForLoadState('networkidle');
      expect(await page.content()).not.toContain('org two secret project');
      expect(await page.content()).not.toContain(endpoint.id);
    });

    it('every value is text: markup in a description, a filter value and a response excerpt never runs', async () => {
      receiver.respondNext({ kind: 'status', status: 500, body: `${XSS_SCRIPT}${XSS}` });
      const { endpoint, delivery } = await endpointWithDelivery('sess-org1', { description: XSS, filter: { agentId: XSS } });
      for (const hash of ['#/', `#/endpoints/${endpoint.id}`, `#/endpoints/${endpoint.id}/deliveries/${delivery.id}`]) {
        await open(hash);
        await page.waitForLoadState('networkidle');
        const text = (await main().textContent()) ?? '';
        expect(text).toContain(hash.includes('deliveries') ? `${XSS_SCRIPT}${XSS}` : XSS);
        expect(await page.evaluate("document.querySelectorAll('img, script:not([src]), iframe, object').length")).toBe(0);
        expect(await page.evaluate('window.__xss')).toBeUndefined();
        expect(await page.evaluate('window.__violations')).toEqual([]);
        await page.close();
      }
      // Page and test event data are shown as text too.
      await open(`#/endpoints/${endpoint.id}`);
      await page.getByRole('button', { name: 'Send test event' }).click();
      await expect.poll(() => main().locator('.notice pre').count()).toBe(1);
      expect(await page.evaluate("document.querySelectorAll('img').length")).toBe(0);
    });

    it('axe-core finds no serious or critical violation on the screens, and each works at 375 px', async () => {
      const { endpoint, delivery } = await endpointWithDelivery();
      const screens = ['#/', '#/new', `#/endpoints/${endpoint.id}`, `#/endpoints/${endpoint.id}/deliveries/${delivery.id}`, '#/catalog'];
      for (const hash of screens) {
        await open(hash);
        await page.setViewportSize({ width: 375, height: 800 });
        await page.waitForLoadState('networkidle');
        expect(await axeViolations(page), hash).toEqual([]);
        // Nothing wider than the screen: no sideways scrolling.
        expect(await page.evaluate('document.documentElement.scrollWidth'), hash).toBeLessThanOrEqual(375);
        await page.close();
      }
    });

    it('is usable by keyboard: the create form is reached, filled and sent without a pointer', async () => {
      await open('#/');
      let reached = false;
      for (let i = 0; i < 10 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = (await page.evaluate('document.activeElement?.textContent')) === 'Add endpoint';
      }
      expect(reached).toBe(true);
      await page.keyboard.press('Enter');
      await expect.poll(() => main().locator('h1').textContent()).toBe('Add endpoint');
      await page.getByLabel('Endpoint URL').focus();
      await page.keyboard.type(receiver.url);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      expect(await page.evaluate('document.activeElement.checked')).toBe(true);
      await page.getByLabel('Endpoint URL').focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => main().locator('h1').textContent()).toBe('Endpoint created');
    });

    it('a bearer token handed over in the fragment is used instead of cookies, and leaves the address bar', async () => {
      const { endpoint } = await endpointWithDelivery('sess-org2', { description: 'seen by org two' });
      await browser.context.clearCookies();
      try {
        await open(`#access_token=sess-org2`);
        await expect.poll(() => main().textContent()).toContain('seen by org two');
        expect(await page.evaluate('location.hash')).toBe('#/');
        await page.getByRole('link', { name: receiver.url }).first().click();
        await expect.poll(() => main().textContent()).toContain(endpoint.id);
      } finally {
        await browser.context.addCookies([{ name: 'session', value: 'sess-org1', url: mounted.origin }]);
      }
    });

    it('the catalog lists the event types', async () => {
      await open('#/catalog');
      await expect.poll(() => main().textContent()).toContain('execution.completed');
      expect(await main().textContent()).toContain('wallet.balance_low');
    });
  });
}
