import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { type BrowserContext, chromium } from 'playwright-core';
import { webhookRouter } from '../../adapters/express/index.js';
import { webhookFrameworkErrors, webhookPlugin } from '../../adapters/fastify/index.js';
import type { Principal } from '../../src/http/types.js';
import type { PortalOptions } from '../../src/portal/portal.js';
import type { WebhookService } from '../../src/service.js';

export const MOUNT = '/v1';

/** Sessions the test host knows, as a `session` cookie or a bearer token: org_1 and org_2. */
export const SESSIONS: Record<string, Principal> = {
  'sess-org1': { orgId: 'org_1', scopes: ['webhooks:read', 'webhooks:write'] },
  'sess-org2': { orgId: 'org_2', scopes: ['webhooks:read', 'webhooks:write'] },
};

/** The host's own authentication: its session cookie, or a bearer token it handed to the page. */
function principalFor(headers: Record<string, string | string[] | undefined>): Principal | null {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) return SESSIONS[authorization.slice(7)] ?? null;
  const cookie = typeof headers.cookie === 'string' ? /(?:^|;\s*)session=([^;]+)/.exec(headers.cookie) : null;
  return cookie ? (SESSIONS[cookie[1] as string] ?? null) : null;
}

export interface Mounted {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `http://127.0.0.1:<port>/v1/portal/` */
  portalUrl: string;
  close(): Promise<void>;
}

export type PortalMount = (service: WebhookService, portal?: true | PortalOptions) => Promise<Mounted>;

export const mountExpress: PortalMount = async (service, portal = true) => {
  const app = express();
  app.use(MOUNT, webhookRouter(service, { authenticate: (req) => principalFor(req.headers), portal }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    portalUrl: `${origin}${MOUNT}/portal/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export const mountFastify: PortalMount = async (service, portal = true) => {
  const app = Fastify({ frameworkErrors: webhookFrameworkErrors() });
  await app.register(webhookPlugin, { service, prefix: MOUNT, authenticate: (req) => principalFor(req.headers), portal });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { origin, portalUrl: `${origin}${MOUNT}/portal/`, close: () => app.close() };
};

export const MOUNTS = { express: mountExpress, fastify: mountFastify };

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's Chromium, headless, with a fresh profile. We run as root on a closed network: no
 * sandbox, and none of the background connections Chromium would otherwise try.
 */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'hookrelay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1024, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
