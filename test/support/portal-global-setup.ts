import { fileURLToPath } from 'node:url';

interface PortalBuild {
  buildPortal(): Promise<{ manifest: { script: string; stylesheet: string }; sizes: Record<string, number> }>;
}

/**
 * Builds the portal's browser assets into dist/portal/ from the current source before any suite
 * runs, exactly as `npm run build` does: the portal serves only built assets, so `npm test` on a
 * clean clone (no dist/) and after an edit of portal-ui/ both test what the package would ship.
 */
export default async function setup(): Promise<void> {
  const script = fileURLToPath(new URL('../../scripts/build-portal.mjs', import.meta.url));
  const { buildPortal } = (await import(script)) as PortalBuild;
  await buildPortal();
}
