import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file the portal serves. */
export interface PortalAsset {
  body: string;
  contentType: string;
}

/** The built page's files (scripts/build-portal.mjs), by file name, and which two the page loads. */
export interface PortalAssets {
  script: string;
  stylesheet: string;
  files: ReadonlyMap<string, PortalAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * Where the built assets are. In the package this module is bundled into `dist/*.js` and the assets
 * sit in `dist/portal/`; run from source (tests, tsx) it is `src/portal/`, and the assets are in the
 * repository's `dist/portal/`, which the test setup builds before any suite runs.
 */
function assetDirectories(): string[] {
  // CommonJS bundles have __dirname; ESM (and source) have import.meta.url.
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  return [join(here, 'portal'), join(here, '..', '..', 'dist', 'portal')];
}

let loaded: PortalAssets | null = null;

/** Reads the built assets once per process; throws when they were never built. */
export function portalAssets(): PortalAssets {
  if (loaded) return loaded;
  const directory = assetDirectories().find((dir) => existsSync(join(dir, 'manifest.json')));
  if (!directory) throw new Error('hookrelay portal assets not found: build the package (npm run build) before serving the portal');
  const manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as { script: string; stylesheet: string };
  const files = new Map<string, PortalAsset>();
  for (const name of [manifest.script, manifest.stylesheet]) {
    const extension = name.slice(name.lastIndexOf('.') + 1);
    files.set(name, { body: readFileSync(join(directory, name), 'utf8'), contentType: CONTENT_TYPES[extension] ?? 'application/octet-stream' });
  }
  loaded = { script: manifest.script, stylesheet: manifest.stylesheet, files };
  return loaded;
}

/** A short content hash for file names of generated assets (the theme stylesheet). */
export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 10);
}
