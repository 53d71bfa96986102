// Regenerates the portal screenshots in docs/ (`npx tsx scripts/portal-screenshots.ts`): the test
// host and headless Chromium of the browser tests, a few endpoints and deliveries, four screens.
import { createTestReceiver } from '../src/testing/index.js';
import { newService } from '../test/http/harness.js';
import { launchBrowser, mountExpress } from '../test/portal/harness.js';

const receiver = await createTestReceiver();
const service = newService({ retry: { schedule: [] } });
const mounted = await mountExpress(service);
const browser = await launchBrowser();
try {
  await browser.context.addCookies([{ name: 'session', value: 'sess-org1', url: mounted.origin }]);
  const org = 'org_1';
  const main = await service.create(org, { url: receiver.url, events: ['execution.completed', 'execution.failed'], description: 'Orders service' });
  await service.create(org, { url: `${receiver.url}/billing`, events: ['wallet.balance_low'], description: 'Billing alerts', filter: { agentId: 'agt_42' } });
  await service.sendTestEvent(org, main.endpoint.id);
  await service.deliverDue();
  receiver.respondNext({ kind: 'status', status: 503, body: '{"error":"maintenance"}' });
  const { delivery } = await service.sendTestEvent(org, main.endpoint.id);
  await service.deliverDue();

  const page = await browser.context.newPage();
  const shoot = async (hash: string, file: string, width = 900, height = 620): Promise<void> => {
    await page.setViewportSize({ width, height });
    await page.goto(`${mounted.portalUrl}${hash}`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `docs/${file}` });
    console.log(`docs/${file}`);
  };
  await shoot('#/', 'portal-endpoints.png');
  await shoot(`#/endpoints/${main.endpoint.id}`, 'portal-endpoint.png', 900, 900);
  await shoot(`#/endpoints/${main.endpoint.id}/deliveries/${delivery.id}`, 'portal-delivery.png');
  await shoot('#/new', 'portal-create-mobile.png', 375, 700);
} finally {
  await browser.close();
  await mounted.close();
  await service.stop();
  await receiver.close();
}
